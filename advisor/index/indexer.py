"""The index as a whole: which sources it holds, how it is brought up to date, and what it loads for queries."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..embed.base import Embedder
from ..ingest.load import LoadError, iter_files, load_file
from ..ingest.split import TranslationError, claim_order, split_document, with_translation
from ..schema import Chunk, Document, SourceInfo
from .store import EncoderIndex, SyncResult, open_client

ProgressFactory = Callable[[int, str], Callable[[int], None]]  # (total, label) -> advance(n)


@dataclass
class IngestReport:
    """What an ingest run read, skipped and changed."""

    documents: int = 0
    chunks: int = 0
    failed: list[str] = field(default_factory=list)  # "file: reason"
    synced: list[SyncResult] = field(default_factory=list)

    @property
    def embedded(self) -> int:
        return sum(s.added + s.updated for s in self.synced)


@dataclass
class DocPlan:
    """A document to index: where to read it again, its metadata (body dropped), and its claim order."""

    doc: Document
    order: tuple[bool, int, str]
    translation: Document | None = None  # a file with `translation_of: <doc>`, split together with it

    @property
    def file(self) -> Path:
        assert self.doc.file is not None
        return self.doc.file

    @property
    def root(self) -> Path | None:
        return self.doc.root


class Index:
    """Chunks in Chroma (one collection per encoder), plus the registry of source folders."""

    def __init__(
        self,
        index_dir: Path,
        embedders: Sequence[Embedder],
        corpus_dir: Path,
        chroma_url: str = "",
        uploads_dir: Path | None = None,
    ) -> None:
        self.index_dir = index_dir
        self.corpus_dir = corpus_dir
        self.uploads_dir = uploads_dir
        self.chroma_url = chroma_url
        self.embedders = list(embedders)
        self._client: Any = None
        self._vectors: list[EncoderIndex] | None = None
        self._lock = threading.RLock()

    # --- sources -----------------------------------------------------------------------------------
    @property
    def _registry(self) -> Path:
        return self.index_dir / "sources.json"

    def extra_roots(self) -> list[Path]:
        """Files and folders added with `advisor ingest PATH`, remembered between runs."""
        if not self._registry.is_file():
            return []
        return [Path(p) for p in json.loads(self._registry.read_text(encoding="utf-8"))]

    def _remember(self, roots: Sequence[Path]) -> None:
        known = {str(p) for p in self.extra_roots()}
        known.update(str(p.resolve()) for p in roots)
        self.index_dir.mkdir(parents=True, exist_ok=True)
        tmp = self._registry.with_suffix(".tmp")
        tmp.write_text(json.dumps(sorted(known), ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(self._registry)

    def forget(self, root: Path) -> bool:
        """Drop a remembered source root (the next ingest removes its documents)."""
        roots = [str(p) for p in self.extra_roots()]
        target = str(root.resolve())
        if target not in roots:
            return False
        roots.remove(target)
        self._registry.write_text(json.dumps(roots, ensure_ascii=False, indent=1), encoding="utf-8")
        return True

    def roots(self) -> list[Path]:
        """Every root the index is built from: the corpus, uploaded documents, then remembered extras that exist."""
        roots = [self.corpus_dir]
        if self.uploads_dir is not None and self.uploads_dir.is_dir():
            roots.append(self.uploads_dir)
        return [*roots, *(p for p in self.extra_roots() if p.exists() and p not in roots)]

    def load_documents(self, roots: Sequence[Path] | None = None) -> tuple[list[Document], list[str]]:
        """Documents under the roots, and a 'file: reason' line for every file that could not be read."""
        return self._load(roots)

    def _load(self, roots: Sequence[Path] | None = None) -> tuple[list[Document], list[str]]:
        """Documents under the roots, and a 'file: reason' line for every file that could not be read."""
        docs: list[Document] = []
        failed: list[str] = []
        seen_ids: dict[str, str] = {}
        for path, root in iter_files(roots if roots is not None else self.roots()):
            try:
                doc = load_file(path, root)
            except (LoadError, OSError) as exc:
                failed.append(str(exc) if isinstance(exc, LoadError) else f"{path.name}: {exc}")
                continue
            if doc.doc_id in seen_ids and seen_ids[doc.doc_id] != str(path):
                failed.append(
                    f"{path.name}: document id {doc.doc_id!r} is already used by {seen_ids[doc.doc_id]}"
                )
                continue
            seen_ids[doc.doc_id] = str(path)
            docs.append(replace(doc, file=path, root=root))
        return docs, failed

    # --- storage -----------------------------------------------------------------------------------
    def vectors(self) -> list[EncoderIndex]:
        """The vector collections, opened on first use."""
        with self._lock:
            if self._vectors is None:
                self._client = open_client(self.index_dir, self.chroma_url)
                records = self.index_dir / "records.sqlite"
                self._vectors = [EncoderIndex(self._client, e, records) for e in self.embedders]
            return self._vectors

    def exists(self) -> bool:
        """True when the index holds chunks (built here, or by another machine on a shared Chroma server)."""
        return self.vectors()[0].count() > 0

    def ingest(self, extra: Sequence[Path] = (), progress: ProgressFactory | None = None) -> IngestReport:
        """Bring the index up to date with the corpus, remembered sources and `extra` (remembered from now on)."""
        missing = [str(p) for p in extra if not p.exists()]
        if missing:
            raise FileNotFoundError(f"not found: {', '.join(missing)}")
        with self._lock:
            if extra:
                self._remember(extra)
            plan, failed = self._plan()
            # Documents are streamed, never all held at once: a cheap first pass counts chunks for the
            # progress bars and the manifest, then each collection is synced from a fresh stream.
            counts: dict[str, int] = {}
            for chunk in self._stream_chunks(plan):
                counts[chunk.doc_id] = counts.get(chunk.doc_id, 0) + 1
            total = sum(counts.values())
            report = IngestReport(documents=len(plan), chunks=total, failed=failed)
            for vector_index in self.vectors():
                advance = progress(total, f"embedding ({vector_index.embedder.key})") if progress else None
                report.synced.append(
                    vector_index.sync(lambda: self._stream_chunks(plan), on_embedded=advance)
                )
            self._write_manifest(plan, counts)
            return report

    def _plan(self) -> tuple[list[DocPlan], list[str]]:
        """Which files to index, in claim order, with the metadata the manifest needs (bodies are dropped).

        A translation (`translation_of:`) joins its original's plan; one that does not follow its original
        line for line, or names no document here, is reported and left out.
        """
        docs, failed = self.load_documents()
        originals = {d.doc_id: d for d in docs if not d.translation_of}
        plan = {d.doc_id: DocPlan(d, order=claim_order(d)) for d in originals.values()}
        for doc in (d for d in docs if d.translation_of):
            original = originals.get(doc.translation_of or "")
            if original is None:
                failed.append(
                    f"{Path(doc.path).name}: translation of {doc.translation_of!r}, which is not indexed"
                )
            elif len(doc.body.split("\n")) != len(original.body.split("\n")):
                failed.append(
                    f"{Path(doc.path).name}: does not follow {Path(original.path).name} line for line"
                )
            else:
                item = plan[original.doc_id]
                item.translation = replace(doc, body="")
                languages = tuple(dict.fromkeys((*item.doc.languages, *doc.languages)))
                item.doc = replace(item.doc, languages=languages, titles={**doc.titles, **item.doc.titles})
        for item in plan.values():
            item.doc = replace(item.doc, body="")
        return sorted(plan.values(), key=lambda p: p.order), failed

    def _stream_chunks(self, plan: Sequence[DocPlan]) -> Iterator[Chunk]:
        """Chunks of the planned documents, read again one file at a time, duplicates skipped."""
        seen: set[bytes] = set()
        for item in plan:
            try:
                doc = load_file(item.file, item.root)
                translation = None
                if item.translation is not None and item.translation.file is not None:
                    translation = load_file(item.translation.file, item.translation.root)
            except (LoadError, OSError):
                continue  # vanished or broke since planning; the next ingest reports it
            chunks = split_document(replace(doc, doc_id=item.doc.doc_id), seen)
            if translation is not None:
                # A translation that changed since planning is left out: the original alone; the next
                # ingest reports it.
                with contextlib.suppress(TranslationError):
                    chunks = with_translation(replace(doc, doc_id=item.doc.doc_id), chunks, translation)
            yield from chunks

    def _write_manifest(self, plan: Sequence[DocPlan], counts: dict[str, int]) -> None:
        """What `advisor sources` lists: one row per document, including documents that yielded no chunks."""
        docs = [p.doc for p in plan]
        rows = []
        for doc in docs:
            note = ""
            if counts.get(doc.doc_id, 0) == 0:
                note = (
                    f"excerpt of {doc.excerpt_of}: every paragraph is already indexed"
                    if doc.excerpt_of
                    else ("every paragraph duplicates another document")
                )
            rows.append(
                SourceInfo(
                    doc.doc_id,
                    doc.title_for(doc.languages[0]),
                    doc.languages,
                    counts.get(doc.doc_id, 0),
                    doc.path,
                    doc.kind,
                    note,
                    doc.source_file,
                ).__dict__
            )
        tmp = self.index_dir / "manifest.tmp"
        tmp.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(self.index_dir / "manifest.json")

    def sources(self) -> list[SourceInfo]:
        """Documents in the index as of the last ingest (derived from the stored chunks if no manifest is here)."""
        path = self.index_dir / "manifest.json"
        if not path.is_file():
            return self._sources_from_chunks()
        rows = json.loads(path.read_text(encoding="utf-8"))
        return [SourceInfo(**{**r, "languages": tuple(r["languages"])}) for r in rows]

    def _sources_from_chunks(self) -> list[SourceInfo]:
        """Documents as seen in the vector store, for machines that query an index built elsewhere."""
        by_doc: dict[str, list[Chunk]] = {}
        for chunk in self.chunks():
            by_doc.setdefault(chunk.doc_id, []).append(chunk)
        return [
            SourceInfo(
                doc_id, cs[0].title, tuple(sorted({c.lang for c in cs})), len(cs), cs[0].path, cs[0].kind
            )
            for doc_id, cs in sorted(by_doc.items())
        ]

    def chunks(self) -> list[Chunk]:
        """Every chunk stored (read from the first collection)."""
        return self.vectors()[0].chunks()

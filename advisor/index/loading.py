"""Loading for an ingest: which documents to index, in claim order, and their chunks as one stream."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ..ingest.load import LoadError, iter_files, load_file
from ..ingest.split import TranslationError, claim_order, line_key, split_document, with_translation
from ..schema import Chunk, Document


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


def load_documents(roots: Sequence[Path]) -> tuple[list[Document], list[str]]:
    """Documents under the roots, and a 'file: reason' line for every file that could not be read."""
    docs: list[Document] = []
    failed: list[str] = []
    seen_ids: dict[str, str] = {}
    for path, root in iter_files(roots):
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


def plan_documents(roots: Sequence[Path]) -> tuple[list[DocPlan], list[str]]:
    """Which files to index, in claim order, with the metadata the manifest needs (bodies are dropped).

    A translation (`translation_of:`) joins its original's plan; one that does not follow its original
    line for line, or names no document here, is reported and left out.
    """
    docs, failed = load_documents(roots)
    originals = {d.doc_id: d for d in docs if not d.translation_of}
    plan = {d.doc_id: DocPlan(d, order=claim_order(d)) for d in originals.values()}
    for doc in (d for d in docs if d.translation_of):
        original = originals.get(doc.translation_of or "")
        if original is None:
            failed.append(
                f"{Path(doc.path).name}: translation of {doc.translation_of!r}, which is not indexed"
            )
        elif len(doc.body.split("\n")) != len(original.body.split("\n")):
            failed.append(f"{Path(doc.path).name}: does not follow {Path(original.path).name} line for line")
        else:
            item = plan[original.doc_id]
            item.translation = replace(doc, body="")
            languages = tuple(dict.fromkeys((*item.doc.languages, *doc.languages)))
            item.doc = replace(item.doc, languages=languages, titles={**doc.titles, **item.doc.titles})
    for item in plan.values():
        item.doc = replace(item.doc, body="")
    return sorted(plan.values(), key=lambda p: p.order), failed


def stream_chunks(plan: Sequence[DocPlan], seen: set[bytes] | None = None) -> Iterator[Chunk]:
    """Chunks of the planned documents, read again one file at a time; lines already in `seen` are skipped."""
    seen = set() if seen is None else seen
    for item in plan:
        try:
            doc = replace(load_file(item.file, item.root), doc_id=item.doc.doc_id)
            translation = None
            if item.translation is not None and item.translation.file is not None:
                translation = load_file(item.translation.file, item.translation.root)
        except (LoadError, OSError):
            continue  # vanished or broke since planning; the next ingest reports it
        chunks = split_document(doc, seen)
        if translation is not None:
            # A translation that changed since planning is left out (the original alone); the next ingest
            # reports it.
            with contextlib.suppress(TranslationError):
                chunks = with_translation(doc, chunks, translation)
        yield from chunks


def claimed_lines(chunks: Iterable[Chunk]) -> set[bytes]:
    """Fingerprints of every line of these chunks: what a document added alone must not index twice."""
    return {line_key(line.strip()) for c in chunks for line in c.text.split("\n") if line.strip()}

"""The index as a whole: ingest runs, one-document changes, and the versions questions are answered from.

What to read comes from the source registry (`sources.py`), loading plans and streams the chunks
(`loading.py`), dense vectors live behind the `VectorStore` seam (`store.py` on Chroma), and every change
publishes a new version (`snapshot.py`: chunk table, lexical index, manifest). Writers take one lock,
shared by threads and processes; readers never wait for it: they keep answering from the version they hold.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..embed.base import Embedder
from ..ingest.load import LoadError, load_file
from ..ingest.split import claim_order
from ..schema import Chunk, SourceInfo
from .lexical import count_terms
from .loading import DocPlan, claimed_lines, plan_documents, stream_chunks
from .manifest import read_manifest, source_row, sources_from_chunks
from .snapshot import Snapshot, SnapshotBuilder, SnapshotStore
from .sources import SourceRegistry
from .store import EncoderIndex, open_client
from .table import ChunkTable
from .vector_store import SyncResult

ProgressFactory = Callable[[int, str], Callable[[int], None]]  # (total, label) -> advance(n)
log = logging.getLogger(__name__)
_DOC_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")  # safe as a file name: no separators, no '..'


@dataclass
class IngestReport:
    """What an ingest run read, skipped and changed, and the index version it left."""

    documents: int = 0
    chunks: int = 0
    failed: list[str] = field(default_factory=list)  # "file: reason"
    synced: list[SyncResult] = field(default_factory=list)
    version: int = 0

    @property
    def embedded(self) -> int:
        return sum(s.added + s.updated for s in self.synced)


@dataclass(frozen=True)
class DocumentChange:
    """One document added or removed: its chunks now in the index, and the version that holds the change."""

    doc_id: str
    title: str
    chunks: int
    version: int


class Index:
    """Dense vectors in a VectorStore per encoder, plus the published versions and the source registry."""

    def __init__(
        self,
        index_dir: Path,
        embedders: Sequence[Embedder],
        corpus_dir: Path,
        chroma_url: str = "",
        uploads_dir: Path | None = None,
        shared_dir: Path | None = None,
        collection_prefix: str = "chunks",
    ) -> None:
        """`shared_dir` holds what every worker must see (versions, ingest records); default `index_dir`.
        `collection_prefix` keeps knowledge bases apart on one Chroma server."""
        self.index_dir = index_dir
        self.collection_prefix = collection_prefix
        self.chroma_url = chroma_url
        self.embedders = list(embedders)
        self.registry = SourceRegistry(index_dir, corpus_dir, uploads_dir)
        store_dir = shared_dir or index_dir
        self.snapshots = SnapshotStore(store_dir / "snapshots")
        self._records_db = store_dir / "records.sqlite"
        self._client: Any = None
        self._vectors: list[EncoderIndex] | None = None
        self._loaded: Snapshot | None = None
        self.dense_warm = False  # set once this process has loaded the store's indexes (warm_dense)
        self._lock = threading.Lock()  # guards opening the store and the loaded-version cache

    # --- reading -----------------------------------------------------------------------------------
    def vectors(self) -> list[EncoderIndex]:
        """The vector stores, one per encoder, opened on first use."""
        with self._lock:
            if self._vectors is None:
                self._client = open_client(self.index_dir, self.chroma_url)
                self._vectors = [
                    EncoderIndex(self._client, e, self._records_db, prefix=self.collection_prefix)
                    for e in self.embedders
                ]
            return self._vectors

    def warm_dense(self) -> None:
        """Load the vector store's indexes now; from then on this process's dense searches go to the store
        (faster warm than the flat scan a cold start uses, see flat.py)."""
        for store in self.vectors():
            store.warm()
        self.dense_warm = True

    def dense(self, snapshot: Snapshot) -> list[VersionDense]:
        """Dense search for one version, one per encoder: its flat vectors until the store is warm."""
        return [VersionDense(self, position, e, snapshot) for position, e in enumerate(self.embedders)]

    def version(self) -> int:
        """The current version's number (0 before the first ingest); cheap enough to ask on every question."""
        return self.snapshots.version()

    def exists(self) -> bool:
        """True when the index holds chunks (built here, or by another machine on a shared Chroma server)."""
        return self.version() > 0 or self.vectors()[0].count() > 0

    def snapshot(self) -> Snapshot:
        """The current version, loaded once; an index built before versions were stored is converted once."""
        version = self.version()
        with self._lock:
            if self._loaded is not None and self._loaded.version == version:
                return self._loaded
        snapshot = (self.snapshots.load(version) or self._empty()) if version else self._snapshot_from_store()
        with self._lock:
            self._loaded = snapshot
        return snapshot

    def _snapshot_from_store(self) -> Snapshot:
        """Publish a version from the chunks in the vector store (slow: pages through every record)."""
        with self.snapshots.writing():
            if self.version():  # another process published one while this one waited
                return self.snapshots.load() or self._empty()
            chunks = self.vectors()[0].chunks()
            if not chunks:
                return self._empty()
            old_manifest = self.index_dir / "manifest.json"
            sources = read_manifest(old_manifest) if old_manifest.is_file() else sources_from_chunks(chunks)
            self._publish(None, chunks, sources)
        return self.snapshots.load() or self._empty()

    def _empty(self) -> Snapshot:
        return Snapshot(0, ChunkTable.of([]), count_terms([]), [])

    def sources(self) -> list[SourceInfo]:
        """Documents in the current version, as `advisor sources` lists them."""
        return self.snapshot().sources

    def chunks(self) -> list[Chunk]:
        """Every chunk of the current version, in table order (all decoded: for tools, not questions)."""
        return list(self.snapshot().chunks)

    # --- writing -----------------------------------------------------------------------------------
    def ingest(self, extra: Sequence[Path] = (), progress: ProgressFactory | None = None) -> IngestReport:
        """Bring the index up to date with the corpus, remembered sources and `extra` (remembered from now on)."""
        missing = [str(p) for p in extra if not p.exists()]
        if missing:
            raise FileNotFoundError(f"not found: {', '.join(missing)}")
        with self.snapshots.writing():
            if extra:
                self.registry.remember(extra)
            plan, failed = plan_documents(self.registry.roots())
            previous = self.snapshots.load()
            builder = self.snapshots.builder(previous)
            try:
                # Documents are streamed, never all held at once: a first pass writes the new chunk table
                # and counts chunks for the progress bars, then each vector store syncs from a fresh stream.
                counts: dict[str, int] = {}
                for chunk in stream_chunks(plan):
                    builder.add(chunk)
                    counts[chunk.doc_id] = counts.get(chunk.doc_id, 0) + 1
                report = IngestReport(documents=len(plan), chunks=builder.count, failed=failed)
                for store in self.vectors():
                    advance = (
                        progress(builder.count, f"embedding ({store.embedder.key})") if progress else None
                    )
                    report.synced.append(store.sync(lambda: stream_chunks(plan), on_embedded=advance))
            except BaseException:
                builder.abandon()
                raise
            sources = [source_row(p.doc, counts.get(p.doc.doc_id, 0)) for p in plan]
            same_sources = previous is not None and _by_id(sources) == _by_id(previous.sources)
            stored = previous is not None and all(previous.has_flat(e.key) for e in self.embedders)
            if previous is not None and builder.unchanged(previous) and same_sources and stored:
                builder.abandon()  # nothing to follow: workers keep the version they have
                report.version = previous.version
            else:
                try:
                    self._attach_vectors(builder, previous)
                except BaseException:
                    builder.abandon()
                    raise
                report.version = self.snapshots.publish(builder, sources)
            return report

    def add_document(self, doc_id: str, text: str, progress: ProgressFactory | None = None) -> DocumentChange:
        """Store one document's text in the uploads folder and index it alone; every worker sees the new version.

        `text` is the file as it is stored (front matter + body). LoadError when it cannot be read as a
        document; any other failure (the embedding server went away) leaves the index as it was.
        """
        uploads = self._uploads_dir(doc_id)
        final = uploads / f"{doc_id}.md"
        with self.snapshots.writing():
            previous = self.snapshot()
            if final.exists() or any(s.doc_id == doc_id for s in previous.sources):
                raise ValueError(f"document id {doc_id!r} is already in the index")
            uploads.mkdir(mode=0o700, parents=True, exist_ok=True)
            temp = uploads / f".{doc_id}.md"  # hidden: an ingest never reads it
            # Owner-only from the first byte: uploads are other people's documents.
            with os.fdopen(
                os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8"
            ) as out:
                out.write(text)
            temp.replace(final)
            try:
                doc = replace(load_file(final, uploads), file=final, root=uploads)
                if doc.doc_id != doc_id:
                    raise LoadError(f"{final.name}: its front matter names the id {doc.doc_id!r}")
                others = [c for c in previous.chunks if c.doc_id != doc_id]
                plan = [DocPlan(doc, claim_order(doc))]
                chunks = list(stream_chunks(plan, claimed_lines(others)))
                for store in self.vectors():
                    advance = progress(len(chunks), f"embedding ({store.embedder.key})") if progress else None
                    store.replace_document(doc_id, chunks, on_embedded=advance)
            except BaseException:
                final.unlink(missing_ok=True)
                for store in self.vectors():
                    store.replace_document(doc_id, [])
                raise
            sources = [*previous.sources, source_row(doc, len(chunks))]
            version = self._publish(previous, [*others, *chunks], sources)
        return DocumentChange(doc_id, doc.title_for(doc.languages[0]), len(chunks), version)

    def remove_document(self, doc_id: str) -> DocumentChange:
        """Delete an uploaded document's file and chunks; every worker sees the new version. LookupError if unknown."""
        path = self._uploads_dir(doc_id) / f"{doc_id}.md"
        with self.snapshots.writing():
            if not path.is_file():
                raise LookupError(f"no uploaded document with id {doc_id!r}")
            previous = self.snapshot()
            title = next((s.title for s in previous.sources if s.doc_id == doc_id), doc_id)
            for store in self.vectors():
                store.replace_document(doc_id, [])
            path.unlink()
            kept = [c for c in previous.chunks if c.doc_id != doc_id]
            version = self._publish(previous, kept, [s for s in previous.sources if s.doc_id != doc_id])
        return DocumentChange(doc_id, title, 0, version)

    def add_precomputed(self, chunks: Sequence[Chunk], vectors: Sequence[np.ndarray]) -> int:
        """Add chunks with vectors computed elsewhere (one matrix per encoder) and publish a version (benchmarks)."""
        with self.snapshots.writing():
            for store, matrix in zip(self.vectors(), vectors, strict=True):
                store.add_precomputed(chunks, matrix)
            previous = self.snapshots.load()
            table = [*(previous.chunks if previous else []), *chunks]
            fresh = [{c.chunk_id: row for c, row in zip(chunks, matrix, strict=True)} for matrix in vectors]
            return self._publish(previous, table, sources_from_chunks(table), fresh)

    def _uploads_dir(self, doc_id: str) -> Path:
        if self.registry.uploads_dir is None:
            raise ValueError("this index has no uploads folder")
        if not _DOC_ID.match(doc_id):
            raise ValueError(f"not a document id: {doc_id!r}")
        return self.registry.uploads_dir

    def _publish(
        self,
        previous: Snapshot | None,
        chunks: Sequence[Chunk],
        sources: list[SourceInfo],
        fresh: Sequence[Mapping[str, np.ndarray]] = (),
    ) -> int:
        """Write and publish a version holding `chunks` (call while writing); `fresh`: per encoder, chunk id →
        vector of chunks whose vectors are at hand."""
        builder: SnapshotBuilder = self.snapshots.builder(previous)
        try:
            for chunk in chunks:
                builder.add(chunk)
            self._attach_vectors(builder, previous, fresh)
        except BaseException:
            builder.abandon()
            raise
        return self.snapshots.publish(builder, sources)

    def _attach_vectors(
        self,
        builder: SnapshotBuilder,
        previous: Snapshot | None,
        fresh: Sequence[Mapping[str, np.ndarray]] = (),
    ) -> None:
        """Give the version being built each encoder's vectors in table order (flat.py): from the previous
        version's file where a record is unchanged, else from `fresh` or the vector store. An encoder whose
        vectors cannot all be found gets no file; its questions then go to the store."""
        n = builder.count
        records = previous.chunks.records if previous is not None else None
        old_rows = {r: i for i, r in enumerate(records)} if records else {}
        for position, store in enumerate(self.vectors()):
            key = store.embedder.key
            rows: list[np.ndarray | None] = [None] * n
            old = previous.flat(key) if previous is not None else None
            if old is not None and len(old.matrix) == len(old_rows):
                for i, record in enumerate(builder.records):
                    at = old_rows.get(record)
                    if at is not None:
                        rows[i] = old.matrix[at]
            given = fresh[position] if position < len(fresh) else {}
            for i, chunk_id in enumerate(builder.ids):
                if rows[i] is None and chunk_id in given:
                    rows[i] = given[chunk_id]
            # Ingested records are stored under their record id; precomputed ones under their chunk id.
            for names in (builder.records, builder.ids):
                wanted = [i for i in range(n) if rows[i] is None]
                if not wanted:
                    break
                found = store.vectors_of([names[i] for i in wanted])
                for i in wanted:
                    rows[i] = found.get(names[i])
            if n and all(row is not None for row in rows):
                builder.vectors[key] = np.stack(
                    [np.asarray(r, dtype=np.float32) for r in rows if r is not None]
                )
            elif n:
                lost = sum(row is None for row in rows)
                log.warning("%s: %d vectors not found; this version is searched in the store", key, lost)


class VersionDense:
    """One encoder's dense search over one version: the version's flat vectors (no store to open or load:
    a cold start), or the vector store once this process has warmed it or when the version has no file."""

    def __init__(self, index: Index, position: int, embedder: Embedder, snapshot: Snapshot) -> None:
        self.embedder = embedder
        self._index = index
        self._position = position
        self._snapshot = snapshot
        self.flat = snapshot.flat(embedder.key)
        self._records: Mapping[str, str] | None = None

    def search(self, vector: np.ndarray, k: int, lang: str | None = None) -> list[tuple[str, float]]:
        if self.flat is not None and not self._index.dense_warm:
            return self.flat.search(vector, k, lang)
        store = self._index.vectors()[self._position]
        if self._records is None:
            self._records = self._snapshot.chunks.record_map()
        if store.parts and next(iter(store.parts.values())).known_records is not self._records:
            store.know_records(self._records)  # hits map to this version's chunks without asking the store
        return store.search(vector, k, lang)


def _by_id(sources: Sequence[SourceInfo]) -> dict[str, SourceInfo]:
    return {s.doc_id: s for s in sources}

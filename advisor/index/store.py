"""Chroma collections of chunk vectors, kept in sync with the corpus by LangChain's indexing API.

One collection per encoder; a SQL record manager remembers content hashes, so unchanged chunks are never
embedded twice, a changed file replaces only its own chunks, and a removed file leaves the index.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..embed.base import Embedder
from ..schema import LANGS, Chunk
from ..text import simplify
from .vector_store import Progress, SyncResult

if TYPE_CHECKING:
    from langchain_core.documents import Document as LCDocument

_META_FIELDS = (
    "chunk_id",
    "doc_id",
    "title",
    "lang",
    "text",
    "position",
    "path",
    "line_start",
    "line_end",
    "kind",
    "translated",
)


def open_client(index_dir: Path, chroma_url: str = "") -> Any:
    """A Chroma client: a server when `chroma_url` is set, else a database folder; telemetry always off."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    if chroma_url:
        match = re.match(r"^(https?)://([^:/]+)(?::(\d+))?/?$", chroma_url)
        if not match:
            raise ValueError(f"ADVISOR_CHROMA_URL must look like http://host:port, got {chroma_url!r}")
        scheme, host, port = match.groups()
        return chromadb.HttpClient(
            host=host, port=int(port or 8000), ssl=scheme == "https", settings=settings
        )
    index_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(index_dir / "chroma"), settings=settings)


def chunk_to_document(chunk: Chunk) -> LCDocument:
    """The LangChain document stored for a chunk: simplified text is embedded, the original kept in metadata."""
    from langchain_core.documents import Document as LCDocument

    meta: dict[str, Any] = {name: getattr(chunk, name) for name in _META_FIELDS}
    meta["parallel_id"] = chunk.parallel_id or ""
    return LCDocument(page_content=simplify(chunk.text), metadata=meta)


def record_id(chunk: Chunk) -> str:
    """The id Chroma holds for `chunk`'s record: what LangChain's indexing API (`key_encoder="sha256"`) gives its
    document, sha256 of the hex digests of the text and of the sorted JSON metadata. Stored with each index
    version, so a search maps its hits to chunks without asking Chroma for their metadata; a record id not
    found that way is still looked up in Chroma (tests/test_chunk_table.py checks the two agree)."""
    import hashlib
    import json

    document = chunk_to_document(chunk)
    content = hashlib.sha256(document.page_content.encode("utf-8")).hexdigest()
    meta = hashlib.sha256(json.dumps(dict(document.metadata), sort_keys=True).encode("utf-8")).hexdigest()
    return hashlib.sha256((content + meta).encode("utf-8")).hexdigest()


def metadata_to_chunk(meta: dict[str, Any]) -> Chunk:
    """Rebuild a Chunk from what Chroma stored."""
    return Chunk(
        chunk_id=str(meta["chunk_id"]),
        doc_id=str(meta["doc_id"]),
        title=str(meta["title"]),
        lang="zh" if meta["lang"] == "zh" else "en",
        text=str(meta["text"]),
        position=int(meta["position"]),
        path=str(meta["path"]),
        line_start=int(meta["line_start"]),
        line_end=int(meta["line_end"]),
        parallel_id=str(meta["parallel_id"]) or None,
        kind=str(meta.get("kind") or "article"),
        translated=bool(meta.get("translated", False)),
    )


class _LangChainEmbeddings:
    """Adapter from our Embedder to LangChain's Embeddings interface, reporting progress as it goes."""

    def __init__(self, embedder: Embedder, on_embedded: Callable[[int], None] | None = None) -> None:
        self.embedder = embedder
        self.on_embedded = on_embedded

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors = self.embedder.embed_passages(texts)
        if self.on_embedded is not None:
            self.on_embedded(len(texts))
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_query(text).tolist()


class VectorIndex:
    """The chunk vectors of one encoder in one Chroma collection."""

    batch_size = 64  # chunks embedded and written per step; an interrupted ingest keeps finished steps

    def __init__(self, client: Any, embedder: Embedder, records_db: Path, *, name: str) -> None:
        self.embedder = embedder
        self.collection = name[:63]
        self._client = client
        # Queries talk to Chroma directly; the LangChain wrapper (seconds to import) is only built to ingest.
        self._collection = client.get_or_create_collection(
            self.collection, metadata={"hnsw:space": "cosine"}, embedding_function=None
        )
        self._embeddings = _LangChainEmbeddings(embedder)
        self._store: Any = None
        self._records_db = records_db
        self._count: int | None = None
        self._chunk_of: dict[str, str] = {}  # record id → chunk id, filled as searches return records
        self.known_records: Mapping[str, str] = {}  # record id → chunk id of the version answered from

    def _langchain_store(self) -> Any:
        if self._store is None:
            from typing import cast

            from langchain_chroma import Chroma
            from langchain_core.embeddings import Embeddings

            self._store = Chroma(
                collection_name=self.collection,
                embedding_function=cast(Embeddings, self._embeddings),
                client=self._client,
                collection_metadata={"hnsw:space": "cosine"},
            )
        return self._store

    def _records(self) -> Any:
        from langchain_classic.indexes import SQLRecordManager

        self._records_db.parent.mkdir(parents=True, exist_ok=True)
        records = SQLRecordManager(f"chroma/{self.collection}", db_url=f"sqlite:///{self._records_db}")
        records.create_schema()
        return records

    def _index(self, chunks: Iterable[Chunk], cleanup: str, on_embedded: Progress | None) -> SyncResult:
        """Run LangChain's indexing API: embed what the record manager has not seen, clean up the rest."""
        from langchain_core.indexing import index

        self._embeddings.on_embedded = on_embedded
        try:
            result = index(
                (chunk_to_document(c) for c in chunks),  # a stream: the indexing API batches it
                self._records(),
                self._langchain_store(),
                cleanup=cleanup,  # type: ignore[arg-type]
                source_id_key="doc_id",
                batch_size=self.batch_size,
                key_encoder="sha256",
            )
        finally:
            self._embeddings.on_embedded = None
            self._count = None
        return SyncResult(
            self.collection,
            result["num_added"],
            result["num_updated"],
            result["num_skipped"],
            result["num_deleted"],
        )

    def sync(self, chunks: Iterable[Chunk], on_embedded: Progress | None = None) -> SyncResult:
        """Make the collection hold exactly `chunks`, embedding only what is new or changed."""
        return self._index(chunks, "full", on_embedded)

    def replace_document(
        self, doc_id: str, chunks: Sequence[Chunk], on_embedded: Progress | None = None
    ) -> SyncResult:
        """Make one document's records exactly `chunks` (none: delete them); other documents are not read."""
        if chunks:
            return self._index(chunks, "incremental", on_embedded)
        records = self._records()
        keys = records.list_keys(group_ids=[doc_id])
        if keys:
            self._collection.delete(ids=keys)
            records.delete_keys(keys)
        self._count = None
        return SyncResult(self.collection, 0, 0, 0, len(keys))

    def add_precomputed(self, chunks: Sequence[Chunk], vectors: np.ndarray, batch: int = 4096) -> None:
        """Store chunks with vectors computed elsewhere (benchmarks at scale); bypasses the record manager."""
        collection = self._collection
        self._count = None
        for start in range(0, len(chunks), batch):
            docs = [chunk_to_document(c) for c in chunks[start : start + batch]]
            collection.add(
                ids=[c.chunk_id for c in chunks[start : start + batch]],
                embeddings=vectors[start : start + batch].tolist(),
                metadatas=[d.metadata for d in docs],
                documents=[d.page_content for d in docs],
            )

    def _get_all(self, include: list[str], page: int = 5000) -> Iterator[tuple[dict[str, Any], Any]]:
        """(metadata, embedding or None) of every record, a page at a time (one huge get overflows SQLite)."""
        offset = 0
        while True:
            got = self._collection.get(include=include, limit=page, offset=offset)
            metadatas = got["metadatas"] or []
            embeddings = got.get("embeddings")
            if embeddings is None:
                embeddings = [None] * len(metadatas)
            yield from zip((dict(m) for m in metadatas), list(embeddings), strict=True)
            if len(metadatas) < page:
                return
            offset += page

    def vectors_by_chunk(self) -> dict[str, np.ndarray]:
        """chunk_id → stored vector, for every chunk in the collection."""
        return {
            str(m["chunk_id"]): np.asarray(e, dtype=np.float32)
            for m, e in self._get_all(["embeddings", "metadatas"])
        }

    def vectors_of(self, ids: Sequence[str], page: int = 2000) -> dict[str, np.ndarray]:
        """Record id → stored vector, for those of `ids` the collection holds."""
        out: dict[str, np.ndarray] = {}
        for start in range(0, len(ids), page):
            got = self._collection.get(ids=list(ids[start : start + page]), include=["embeddings"])
            embeddings = got.get("embeddings")
            if embeddings is None:
                continue
            for record, vector in zip(got["ids"], embeddings, strict=True):
                out[str(record)] = np.asarray(vector, dtype=np.float32)
        return out

    def warm(self) -> None:
        """Load the collection's index now (Chroma loads it on the first query), so questions find it loaded."""
        if self.count():
            vector = self.embedder.embed_query("warm up").tolist()
            self._collection.query(query_embeddings=[vector], n_results=1, include=["distances"])

    def count(self) -> int:
        """Chunks in the collection (remembered until this process changes the collection)."""
        if self._count is None:
            self._count = int(self._collection.count())
        return self._count

    def chunks(self) -> list[Chunk]:
        """Every chunk in the collection, in document order."""
        chunks = [metadata_to_chunk(m) for m, _ in self._get_all(["metadatas"]) if m]
        return sorted(chunks, key=lambda c: (c.doc_id, c.position))

    def search(self, vector: np.ndarray, k: int, lang: str | None = None) -> list[tuple[str, float]]:
        """(chunk_id, cosine similarity) of the k nearest chunks, optionally within one language."""
        total = self.count()
        if total < k:  # a small collection may have grown in another process since it was counted
            self._count = None
            total = self.count()
        if total == 0:
            return []
        got = self._collection.query(
            query_embeddings=[vector.tolist()],
            n_results=min(k, total),
            where={"lang": lang} if lang else None,
            include=["distances"],  # metadata would be read from SQLite per hit: 3.0 against 0.7 ms at 100k
        )
        ids = got["ids"][0]
        distances = (got["distances"] or [[]])[0]
        chunk_ids = self._chunk_ids_of(ids)
        return [(chunk_ids[i], 1.0 - float(d)) for i, d in zip(ids, distances, strict=True) if i in chunk_ids]

    def _chunk_ids_of(self, record_ids: Sequence[str]) -> dict[str, str]:
        """Record id → chunk id; a record id is a hash of the chunk and its metadata, so the map never goes stale."""
        known = self.known_records
        for i in record_ids:
            if i not in self._chunk_of and i in known:
                self._chunk_of[i] = known[i]
        missing = [i for i in record_ids if i not in self._chunk_of]
        if missing:
            got = self._collection.get(ids=missing, include=["metadatas"])
            for record_id, meta in zip(got["ids"], got["metadatas"] or [], strict=True):
                self._chunk_of[record_id] = str(meta["chunk_id"])
        return {
            i: self._chunk_of[i] for i in record_ids if i in self._chunk_of
        }  # deleted meanwhile: left out


class EncoderIndex:
    """One encoder's vectors, kept in one collection per language.

    Retrieval ranks every language separately. A filtered query over one mixed collection got slower with
    size (185 ms at 10k chunks); a query on a collection of one language is a plain nearest-neighbour search.
    """

    def __init__(self, client: Any, embedder: Embedder, records_db: Path, *, prefix: str = "chunks") -> None:
        self.embedder = embedder
        self.collection = f"{prefix}__{embedder.key}"[:56]
        self.parts = {
            lang: VectorIndex(client, embedder, records_db, name=f"{self.collection}__{lang}")
            for lang in LANGS
        }

    def know_records(self, records: Mapping[str, str]) -> None:
        """Record id → chunk id of the version being answered from, so searches need not ask Chroma."""
        for part in self.parts.values():
            part.known_records = records

    def sync(self, stream: Callable[[], Iterable[Chunk]], on_embedded: Progress | None = None) -> SyncResult:
        """Make each language's collection hold exactly the chunks of that language in `stream()`."""
        return self._merge(
            [
                part.sync((c for c in stream() if c.lang == lang), on_embedded=on_embedded)
                for lang, part in self.parts.items()
            ]
        )

    def replace_document(
        self, doc_id: str, chunks: Sequence[Chunk], on_embedded: Progress | None = None
    ) -> SyncResult:
        """Make one document's chunks exactly `chunks` in every language's collection (none: remove it)."""
        return self._merge(
            [
                part.replace_document(doc_id, [c for c in chunks if c.lang == lang], on_embedded)
                for lang, part in self.parts.items()
            ]
        )

    def _merge(self, results: list[SyncResult]) -> SyncResult:
        return SyncResult(
            self.collection,
            sum(r.added for r in results),
            sum(r.updated for r in results),
            sum(r.skipped for r in results),
            sum(r.deleted for r in results),
        )

    def add_precomputed(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Store chunks with vectors computed elsewhere (benchmarks at scale)."""
        for lang, part in self.parts.items():
            rows = [i for i, c in enumerate(chunks) if c.lang == lang]
            if rows:
                part.add_precomputed([chunks[i] for i in rows], vectors[rows])

    def vectors_by_chunk(self) -> dict[str, np.ndarray]:
        merged: dict[str, np.ndarray] = {}
        for part in self.parts.values():
            merged.update(part.vectors_by_chunk())
        return merged

    def count(self) -> int:
        return sum(part.count() for part in self.parts.values())

    def vectors_of(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Record id → stored vector, for those of `ids` any language's collection holds."""
        out: dict[str, np.ndarray] = {}
        for part in self.parts.values():
            out.update(part.vectors_of([i for i in ids if i not in out]))
        return out

    def warm(self) -> None:
        for part in self.parts.values():
            part.warm()

    def chunks(self) -> list[Chunk]:
        """Every chunk, in document order."""
        return sorted(
            (c for part in self.parts.values() for c in part.chunks()), key=lambda c: (c.doc_id, c.position)
        )

    def search(self, vector: np.ndarray, k: int, lang: str | None = None) -> list[tuple[str, float]]:
        """(chunk_id, cosine) of the k nearest chunks in one language, or over all languages."""
        if lang is not None:
            return self.parts[lang].search(vector, k) if lang in self.parts else []
        hits = [hit for part in self.parts.values() for hit in part.search(vector, k)]
        return sorted(hits, key=lambda h: -h[1])[:k]

"""The storage seam of the index: what ingest keeps in sync and retrieval searches, for one encoder.

`store.EncoderIndex` implements it on Chroma, on disk or on a `chroma run` server; the contract test in
`tests/test_vector_store.py` runs against both, and any new store must pass it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..embed.base import Embedder
from ..schema import Chunk

Progress = Callable[[int], None]  # told how many chunks were just embedded


@dataclass(frozen=True)
class SyncResult:
    """What one sync changed in one store."""

    collection: str
    added: int
    updated: int
    skipped: int
    deleted: int


class VectorStore(Protocol):
    """One encoder's chunk vectors, searchable per language."""

    embedder: Embedder

    def sync(self, stream: Callable[[], Iterable[Chunk]], on_embedded: Progress | None = None) -> SyncResult:
        """Hold exactly the chunks of `stream()`, embedding only what is new or changed."""
        ...

    def replace_document(
        self, doc_id: str, chunks: Sequence[Chunk], on_embedded: Progress | None = None
    ) -> SyncResult:
        """Hold exactly `chunks` for one document (none: remove it), leaving every other document alone."""
        ...

    def search(self, vector: np.ndarray, k: int, lang: str | None = None) -> list[tuple[str, float]]:
        """(chunk_id, cosine similarity) of the k nearest chunks, in one language or in all."""
        ...

    def count(self) -> int: ...

    def chunks(self) -> list[Chunk]:
        """Every stored chunk, in document order (slow at scale: questions use the stored chunk table)."""
        ...

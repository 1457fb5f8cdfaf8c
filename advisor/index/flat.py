"""Each version's vectors as one flat float32 matrix per encoder, memory-mapped: a cold start's dense search.

Chroma answers nearest-neighbour queries from HNSW graphs it loads whole on a collection's first query:
at 100k chunks that is ~380 MB read into memory and 1.7–2.4 s holding the GIL, before a single answer
(bench/results/PROFILE.md), and importing `chromadb` costs another second. A process that answers one
question (the CLI) or has not loaded Chroma yet searches this file instead: an exact scan over memory-mapped
rows aligned with the version's chunk table, mapped from the page cache rather than copied into new memory. Once a process has
loaded Chroma (`Index.warm_dense`: web workers, evals, the bench), questions go back to HNSW, which is
faster warm (a scan of 100k rows costs tens of ms).

Stored as float32, as Chroma stores them (100k chunks × 896 dimensions: 358 MB a version). float16 would
halve that, but it moved cosines by up to 5e-5, which swapped near-ties on the bundled corpus (e5's cosines
lie close together), and converting it made the scan 5× slower (0.32 against 0.06 s at 100k, both encoders).
In float32 the bundled corpus's rankings equal Chroma's (tests/test_flat_vectors.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

BLOCK = 16384  # rows multiplied at a time: a bounded scratch buffer, whatever the corpus size


def flat_path(folder: Path, key: str) -> Path:
    """Where a version folder keeps `key`'s vectors (encoder keys are file-name safe; checked anyway)."""
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", key) or key.startswith("."):
        raise ValueError(f"not a safe encoder key for a file name: {key!r}")
    return folder / f"dense-{key}.f32.npy"


def write_flat(folder: Path, key: str, matrix: np.ndarray) -> None:
    """Store one encoder's vectors for a version, row i = chunk table row i."""
    path = flat_path(folder, key)
    staging = path.with_suffix(".tmp")
    with staging.open("wb") as handle:
        np.save(handle, np.ascontiguousarray(matrix, dtype=np.float32))
    staging.replace(path)


class FlatVectors:
    """Exact cosine search over one version's memory-mapped vectors of one encoder."""

    def __init__(self, matrix: np.ndarray, ids: Sequence[str], langs: Sequence[str]) -> None:
        if matrix.ndim != 2 or len(matrix) != len(ids) or len(ids) != len(langs):
            raise ValueError(f"vectors {matrix.shape} do not match a table of {len(ids)} rows")
        self.matrix = matrix
        self.ids = ids
        codes = np.asarray(langs)
        self._rows = {lang: np.flatnonzero(codes == lang) for lang in sorted(set(langs))}
        self._last: tuple[bytes, np.ndarray] | None = None  # one question asks every language with one vector

    @classmethod
    def open(cls, folder: Path, key: str, ids: Sequence[str], langs: Sequence[str]) -> FlatVectors | None:
        """The version's vectors of `key`, or None when the version has none (written before they were
        stored, or an ingest that could not gather them): then Chroma is searched."""
        path = flat_path(folder, key)
        if not path.is_file():
            return None
        try:
            matrix = np.load(path, mmap_mode="r")
            return cls(matrix, ids, langs)
        except (OSError, ValueError):
            return None

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    def scores(self, vector: np.ndarray) -> np.ndarray:
        """Cosine of `vector` with every row (rows are stored normalised)."""
        query = np.asarray(vector, dtype=np.float32).ravel()
        key = query.tobytes()
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        norm = float(np.linalg.norm(query)) or 1.0
        out = np.empty(len(self.matrix), dtype=np.float32)
        for start in range(0, len(self.matrix), BLOCK):
            block = self.matrix[start : start + BLOCK]
            out[start : start + len(block)] = block @ (query / norm)
        self._last = (key, out)
        return out

    def search(self, vector: np.ndarray, k: int, lang: str | None = None) -> list[tuple[str, float]]:
        """(chunk_id, cosine) of the k nearest rows, optionally within one language; best first."""
        scores = self.scores(vector)
        rows = self._rows.get(lang, np.empty(0, dtype=np.int64)) if lang is not None else None
        values = scores if rows is None else scores[rows]
        if k <= 0 or not len(values):
            return []
        k = min(k, len(values))
        top = np.argpartition(-values, k - 1)[:k]
        top = top[np.lexsort((top, -values[top]))]  # best first; ties in table order
        picked = top if rows is None else rows[top]
        return [(self.ids[int(row)], float(scores[int(row)])) for row in picked]

"""The stored lexical index: BM25 weights of every chunk's tokens, written by ingest with each index version.

Tokenising with jieba is the expensive part of BM25 (most of a minute at 100k chunks), so the term counts
of every chunk are stored too: the next ingest re-tokenises only chunks that are new or changed, then
recomputes the weights for all chunks in one vectorised pass. Queries read the weights memory-mapped,
column by column (one column per question token), so loading costs almost nothing.
"""

from __future__ import annotations

import json
from array import array
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..schema import Chunk
from ..text import cjk_count, pinyin_key, tokenize

K1 = 1.5  # Okapi BM25 term-frequency saturation
B = 0.75  # Okapi BM25 length normalisation
_ARRAYS = (
    "counts_indptr",
    "counts_indices",
    "counts_data",
    "weights_indptr",
    "weights_indices",
    "weights_data",
)


@dataclass(frozen=True)
class StoredLexicon:
    """One version's lexical index: term counts per chunk (rows) and BM25 weights per term (columns)."""

    vocab: list[str]  # column → token
    lengths: np.ndarray  # tokens per chunk, in chunk-table order
    counts_indptr: np.ndarray  # CSR over chunks: which tokens a chunk has, how often (reused by ingest)
    counts_indices: np.ndarray
    counts_data: np.ndarray
    weights_indptr: np.ndarray  # CSC over tokens: which chunks hold a token, with its BM25 weight
    weights_indices: np.ndarray
    weights_data: np.ndarray
    pinyin: dict[str, list[str]]  # toneless pinyin → Chinese names of the vocabulary ('wenzhou' → 温州)

    def row(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(token columns, counts) of one chunk."""
        start, end = int(self.counts_indptr[index]), int(self.counts_indptr[index + 1])
        return self.counts_indices[start:end], self.counts_data[start:end]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name in _ARRAYS:
            np.save(folder / f"{name}.npy", getattr(self, name))
        np.save(folder / "lengths.npy", self.lengths)
        (folder / "vocab.json").write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")
        (folder / "pinyin.json").write_text(json.dumps(self.pinyin, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> StoredLexicon:
        """Memory-mapped: pages are read when a query touches them, and shared between processes."""
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in _ARRAYS}
        return cls(
            vocab=json.loads((folder / "vocab.json").read_text(encoding="utf-8")),
            lengths=np.load(folder / "lengths.npy", mmap_mode="r"),
            pinyin=json.loads((folder / "pinyin.json").read_text(encoding="utf-8")),
            **arrays,
        )


class TermCounter:
    """Token counts of chunks in table order; a chunk `known` already counted is copied, not re-tokenised.

    Columns start as the previous version's vocabulary, so a reused row is copied as it is; tokens no
    chunk holds any more are dropped when the counts are finished.
    """

    def __init__(
        self,
        vocab: Sequence[str] = (),
        known: Callable[[Chunk], tuple[np.ndarray, np.ndarray] | None] | None = None,
    ) -> None:
        self.vocab: dict[str, int] = {token: column for column, token in enumerate(vocab)}
        self._known = known
        self._indptr = array("q", [0])
        self._cols = array("i")
        self._counts = array("f")
        self.tokenised = 0  # chunks that needed the tokeniser
        self.reused = 0

    def add(self, chunk: Chunk) -> None:
        found = self._known(chunk) if self._known is not None else None
        if found is not None:
            self.reused += 1
            self._cols.frombytes(np.ascontiguousarray(found[0], dtype=np.int32).tobytes())
            self._counts.frombytes(np.ascontiguousarray(found[1], dtype=np.float32).tobytes())
        else:
            self.tokenised += 1
            for token, count in Counter(tokenize(chunk.text)).items():
                self._cols.append(self.vocab.setdefault(token, len(self.vocab)))
                self._counts.append(float(count))
        self._indptr.append(len(self._cols))

    def finish(self) -> StoredLexicon:
        """Compute BM25 weights for every chunk counted so far."""
        indptr = np.frombuffer(self._indptr, dtype=np.int64).copy()
        cols = np.frombuffer(self._cols, dtype=np.int32).copy()
        counts = np.frombuffer(self._counts, dtype=np.float32).copy()
        vocab = list(self.vocab)
        held = np.bincount(cols, minlength=len(vocab)) > 0
        if not held.all():  # tokens of removed or changed chunks: renumber the columns that remain
            cols = (np.cumsum(held) - 1).astype(np.int32)[cols]
            vocab = [token for token, keep in zip(vocab, held, strict=True) if keep]
        return bm25_lexicon(indptr, cols, counts, vocab)


def bm25_lexicon(indptr: np.ndarray, cols: np.ndarray, counts: np.ndarray, vocab: list[str]) -> StoredLexicon:
    """Okapi BM25 weights (k1=1.5, b=0.75, Lucene idf) of each (chunk, token), as columns for queries."""
    n_rows = len(indptr) - 1
    rows = np.repeat(np.arange(n_rows, dtype=np.int32), np.diff(indptr))
    lengths = np.bincount(rows, weights=counts, minlength=n_rows).astype(np.float32)
    df = np.bincount(cols, minlength=len(vocab)).astype(np.float32)
    avg = float(lengths.mean()) if n_rows and lengths.mean() > 0 else 1.0
    idf = np.log((max(n_rows, 1) - df + 0.5) / (df + 0.5) + 1.0)
    denom = counts + K1 * (1 - B + B * lengths[rows] / avg)
    weights = (idf[cols] * counts * (K1 + 1) / denom).astype(np.float32)
    order = np.lexsort((rows, cols))  # column-major, rows ascending within a column
    weights_indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
    np.cumsum(df.astype(np.int64), out=weights_indptr[1:])
    return StoredLexicon(
        vocab=vocab,
        lengths=lengths,
        counts_indptr=indptr,
        counts_indices=cols,
        counts_data=counts,
        weights_indptr=weights_indptr,
        weights_indices=rows[order],
        weights_data=weights[order],
        pinyin=pinyin_names(vocab),
    )


def pinyin_names(vocab: list[str]) -> dict[str, list[str]]:
    """Toneless pinyin → Chinese tokens of the vocabulary (names only: 2–4 characters)."""
    mapping: dict[str, list[str]] = {}
    for token in vocab:
        if 2 <= len(token) <= 4 and cjk_count(token) == len(token):
            mapping.setdefault(pinyin_key(token), []).append(token)
    return mapping


def count_terms(chunks: list[Chunk]) -> StoredLexicon:
    """The lexical index of chunks held in memory (tests, and indexes built before it was stored)."""
    counter = TermCounter()
    for chunk in chunks:
        counter.add(chunk)
    return counter.finish()

"""BM25 over jieba/English tokens of OpenCC-folded text: queries against the stored lexical index.

The weights are computed at ingest (`advisor.index.lexical`) and read memory-mapped; a query adds up the
weight columns of its tokens, so its cost depends on how common the tokens are, not on reloading anything.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..index.lexical import StoredLexicon, count_terms
from ..schema import Chunk
from ..text import tokenize


class LexicalIndex:
    """Okapi BM25 scores of every chunk for a question, and what the gate may ask: does the corpus know a word."""

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        """Tokenise and weigh chunks in memory (tests; a stored index is opened with `from_stored`)."""
        self._open([c.chunk_id for c in chunks], count_terms(list(chunks)))

    @classmethod
    def from_stored(cls, chunk_ids: Sequence[str], stored: StoredLexicon) -> LexicalIndex:
        """The index of one stored version; `chunk_ids` are its chunk table's ids, in table order."""
        index = cls.__new__(cls)
        index._open(chunk_ids, stored)
        return index

    def _open(self, chunk_ids: Sequence[str], stored: StoredLexicon) -> None:
        if len(chunk_ids) != len(stored.lengths):
            raise ValueError(f"lexical index has {len(stored.lengths)} rows for {len(chunk_ids)} chunks")
        self.chunk_ids = list(chunk_ids)
        self.vocab = {token: column for column, token in enumerate(stored.vocab)}
        self._stored = stored

    def __len__(self) -> int:
        return len(self.chunk_ids)

    def query_terms(self, question: str) -> list[str]:
        """Tokens of the question that the index knows, with romanised Chinese names mapped ('wenzhou' → 温州)."""
        terms: list[str] = []
        for token in tokenize(question):
            if token in self.vocab:
                terms.append(token)
            elif token.isascii() and token.isalpha():
                terms.extend(self.pinyin_map().get(token, []))
        return terms

    def pinyin_map(self) -> dict[str, list[str]]:
        """Toneless pinyin → Chinese tokens of the vocabulary (names only: 2–4 characters)."""
        return self._stored.pinyin

    def scores(self, question: str) -> np.ndarray:
        """BM25 score of every chunk (index order) for the question; a repeated token counts again."""
        stored = self._stored
        columns = [self.vocab[t] for t in self.query_terms(question)]
        if not columns:
            return np.zeros(len(self.chunk_ids), dtype=np.float32)
        spans = [(int(stored.weights_indptr[c]), int(stored.weights_indptr[c + 1])) for c in columns]
        rows = np.concatenate([stored.weights_indices[a:b] for a, b in spans])
        weights = np.concatenate([stored.weights_data[a:b] for a, b in spans])
        return np.bincount(rows, weights=weights, minlength=len(self.chunk_ids)).astype(np.float32)

    def idf(self, token: str) -> float:
        """How specific a (folded) token is in this corpus, scaled to [0, 1]: 1 for a token it never uses.

        Computed from the stored index itself (a token's chunk count is its weight column's length), so the
        reader's notion of a specific word follows whatever corpus is indexed.
        """
        n = max(len(self.chunk_ids), 1)
        unknown = math.log(n + 1.5)
        column = self.vocab.get(token)
        if column is None or unknown <= 0:
            return 1.0
        indptr = self._stored.weights_indptr
        df = int(indptr[column + 1] - indptr[column])
        return min(math.log((n - df + 0.5) / (df + 0.5) + 1.0) / unknown, 1.0)

    def knows(self, term: str) -> bool:
        """True when a (folded) term occurs in the corpus, directly or as the pinyin of a Chinese name."""
        return term in self.vocab or (term.isascii() and term in self.pinyin_map())

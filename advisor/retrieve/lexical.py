"""BM25 over jieba/English tokens of OpenCC-folded text, as a sparse matrix: one build, cheap queries."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy import sparse

from ..schema import Chunk
from ..text import cjk_count, pinyin_key, tokenize


class LexicalIndex:
    """Okapi BM25 (k1=1.5, b=0.75) over chunks; scores for all chunks come from one sparse product."""

    def __init__(self, chunks: Sequence[Chunk], k1: float = 1.5, b: float = 0.75) -> None:
        self.chunk_ids = [c.chunk_id for c in chunks]
        docs = [tokenize(c.text) for c in chunks]
        vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        tfs: list[float] = []
        for row, tokens in enumerate(docs):
            for token, tf in Counter(tokens).items():
                rows.append(row)
                cols.append(vocab.setdefault(token, len(vocab)))
                tfs.append(float(tf))
        self.vocab = vocab
        n_docs = max(len(docs), 1)
        lengths = np.array([len(d) for d in docs], dtype=np.float32) if docs else np.zeros(0, np.float32)
        avg = float(lengths.mean()) if len(lengths) and lengths.mean() > 0 else 1.0
        tf = sparse.csr_matrix((tfs, (rows, cols)), shape=(len(docs), len(vocab)), dtype=np.float32)
        df = np.bincount(np.asarray(cols, dtype=np.int64), minlength=len(vocab)).astype(np.float32)
        idf = np.log((n_docs - df + 0.5) / (df + 0.5) + 1.0)
        self._idf = idf
        self._idf_unknown = float(np.log(n_docs + 1.5))  # a token in no chunk: as specific as can be
        # Precompute each (chunk, token) weight so a query is a column sum.
        tf = tf.tocoo()
        denom = tf.data + k1 * (1 - b + b * lengths[tf.row] / avg)
        weights = idf[tf.col] * tf.data * (k1 + 1) / denom
        self._weights = sparse.csc_matrix((weights, (tf.row, tf.col)), shape=tf.shape, dtype=np.float32)
        self._pinyin: dict[str, list[str]] | None = None

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
        if self._pinyin is None:
            mapping: dict[str, list[str]] = {}
            for token in self.vocab:
                if 2 <= len(token) <= 4 and cjk_count(token) == len(token):
                    mapping.setdefault(pinyin_key(token), []).append(token)
            self._pinyin = mapping
        return self._pinyin

    def scores(self, question: str) -> np.ndarray:
        """BM25 score of every chunk (index order) for the question."""
        cols = [self.vocab[t] for t in self.query_terms(question)]
        if not cols:
            return np.zeros(len(self.chunk_ids), dtype=np.float32)
        return np.asarray(self._weights[:, cols].sum(axis=1)).ravel()

    def idf(self, token: str) -> float:
        """How specific a (folded) token is in this corpus, scaled to [0, 1]: 1 for a token it never uses."""
        col = self.vocab.get(token)
        value = self._idf_unknown if col is None else float(self._idf[col])
        return min(value / self._idf_unknown, 1.0) if self._idf_unknown > 0 else 0.0

    def knows(self, term: str) -> bool:
        """True when a (folded) term occurs in the corpus, directly or as the pinyin of a Chinese name."""
        return term in self.vocab or (term.isascii() and term in self.pinyin_map())

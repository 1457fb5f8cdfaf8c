"""A deterministic, hash-seeded embedder for tests where the real model is not the point."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from ..text import tokenize
from .base import normalise_rows


class HashEmbedder:
    """Bag-of-tokens vectors from hashed tokens: similar wording → similar vectors, same input → same output."""

    def __init__(self, dim: int = 64, key: str = "hash-64") -> None:
        self.dim = dim
        self.key = key
        self.calls: list[int] = []  # batch sizes seen, so tests can check what was (re-)embedded

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        for token in tokenize(text) or [text]:
            digest = hashlib.sha256(token.encode("utf-8")).digest()
            vec[int.from_bytes(digest[:4], "little") % self.dim] += 1.0 if digest[4] % 2 else -1.0
        return vec

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalise_rows(np.stack([self._vector(t) for t in texts]))

    def embed_query(self, text: str) -> np.ndarray:
        return normalise_rows(self._vector(text)[None, :])[0]

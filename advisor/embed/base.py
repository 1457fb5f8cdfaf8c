"""The embedding seam: every encoder turns texts into L2-normalised float32 rows."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    """An encoder of passages and queries; `key` names it in collection names and index records."""

    key: str

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for passages, shape (len(texts), dim), unit length."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """Vector for one query, shape (dim,), unit length."""
        ...


def normalise_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


class VectorCache:
    """A small thread-safe LRU of text → vector, so a repeated query or sentence is encoded once."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def get_many(self, texts: Sequence[str], encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        """Vectors for `texts`, encoding only those not seen recently (in one batch)."""
        with self._lock:
            known = {t: self._items[t] for t in texts if t in self._items}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            known.update(zip(missing, encode(missing), strict=True))
        with self._lock:
            for text in texts:
                self._items[text] = known[text]
                self._items.move_to_end(text)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return np.stack([known[t] for t in texts]) if texts else np.zeros((0, 1), dtype=np.float32)


def e5_prefixes(model_name: str) -> tuple[str, str]:
    """(query prefix, passage prefix): e5 models were trained with them, other models read text as it is."""
    return ("query: ", "passage: ") if "e5" in model_name.lower() else ("", "")


class PrefixedEncoder:
    """What text-in, vectors-out encoders share: Traditional→Simplified, e5 prefixes, a query cache."""

    key: str
    query_prefix: str = ""
    passage_prefix: str = ""

    def __init__(self) -> None:
        self.query_cache = VectorCache(2048)

    def _encode(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        from ..text import simplify

        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return self._encode([self.passage_prefix + simplify(t) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        from ..text import simplify

        return self.query_cache.get_many([self.query_prefix + simplify(text)], self._encode)[0]

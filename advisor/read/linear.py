"""The feature reader: two small logistic models over `features.py` rows, trained on open QA data.

One model scores passages ("does this passage answer the question?"), one scores sentences ("does this
sentence hold the answer?"). Each comes in two variants: the question and passage in the same language, or
not (an English question on a Chinese passage: no shared words, only the encoders bridge it). The weights
are data (`weights/*.json`, written by training/reader/train.py) with their provenance; nothing here is
fitted to the bundled corpus. The decision boundary is probability 0.5: the training script moves each
model's bias to the operating point it chose on its own development data, and records how.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..embed.base import Embedder, VectorCache
from ..intent import is_open
from ..schema import Passage, Question, Reading, SentenceScore, Vocabulary
from .features import (
    PASSAGE_FEATURES,
    SENTENCE_FEATURES,
    PassageText,
    passage_rows,
    passage_text,
    sentence_rows,
)

WEIGHTS_DIR = Path(__file__).with_name("weights")
DEFAULT_WEIGHTS = WEIGHTS_DIR / "feature-reader.json"
KINDS = ("zh", "en", "cross")  # passage models: Chinese pairs, English pairs, across languages
SENTENCE_KINDS = ("same", "cross")


class WeightsError(ValueError):
    """A weights file that does not fit this reader (wrong features, missing kinds)."""


@dataclass(frozen=True)
class LinearWeights:
    """Per kind ("same"/"cross"): passage and sentence weight vectors, in the order of the feature tuples."""

    passage: dict[str, np.ndarray]
    sentence: dict[str, np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)
    # Added to a passage's logit for an open question (advice, comparison, case), per kind: such questions
    # are answered by several sentences together, and their own operating point sits lower.
    open_shift: dict[str, float] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = DEFAULT_WEIGHTS) -> LinearWeights:
        data = json.loads(path.read_text(encoding="utf-8"))
        if (
            tuple(data.get("passage_features", ())) != PASSAGE_FEATURES
            or tuple(data.get("sentence_features", ())) != SENTENCE_FEATURES
        ):
            raise WeightsError(
                f"{path.name}: trained on other features; retrain with training/reader/train.py"
            )
        try:
            passage = {k: np.asarray(data["passage"][k], dtype=np.float32) for k in KINDS}
            sentence = {k: np.asarray(data["sentence"][k], dtype=np.float32) for k in SENTENCE_KINDS}
        except KeyError as exc:
            raise WeightsError(f"{path.name}: no weights for {exc}") from exc
        shift = {k: float(v) for k, v in (data.get("open_shift") or {}).items()}
        return cls(passage, sentence, data.get("meta", {}), shift)

    def to_json(self) -> dict[str, Any]:
        return {
            "passage_features": list(PASSAGE_FEATURES),
            "sentence_features": list(SENTENCE_FEATURES),
            "passage": {k: [round(float(x), 6) for x in v] for k, v in self.passage.items()},
            "sentence": {k: [round(float(x), 6) for x in v] for k, v in self.sentence.items()},
            "open_shift": {k: round(v, 4) for k, v in self.open_shift.items()},
            "meta": self.meta,
        }


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


def kind_of(question: Question, passage: Passage) -> str:
    """The passage model for this pair: its language when shown in the question's language, else 'cross'."""
    return passage.chunk.lang if passage.chunk.lang == question.lang else "cross"


def sentence_kind(kind: str) -> str:
    return "cross" if kind == "cross" else "same"


@dataclass(frozen=True)
class ReadInput:
    """Everything the models read for one question: passage texts, sentence cosines, passage rows."""

    texts: tuple[PassageText, ...]
    sims: tuple[np.ndarray, ...]
    rows: np.ndarray
    kinds: tuple[str, ...]


class FeatureReader:
    """Scores each retrieved passage and its sentences; the gate and the extractive answerer use the scores."""

    name = "feature-reader"

    def __init__(
        self,
        sentence_encoder: Embedder,
        encoder_keys: tuple[str, str],
        vocabulary: Vocabulary | None = None,
        weights: LinearWeights | None = None,
    ) -> None:
        """`encoder_keys` names the (e5, USE) encoders whose raw cosines the retriever put in Passage.scores."""
        self.encoder = sentence_encoder
        self.encoder_keys = encoder_keys
        self.vocabulary = vocabulary
        self._weights = weights
        self.sentence_cache = VectorCache(50000)  # passages recur across questions: encode each sentence once

    @property
    def weights(self) -> LinearWeights:
        if self._weights is None:
            self._weights = LinearWeights.load()
        return self._weights

    def inputs(self, question: Question, passages: Sequence[Passage], vocabulary: Vocabulary) -> ReadInput:
        """The feature rows for `passages` (also what training/reader/ records)."""
        texts = tuple(passage_text(p) for p in passages)
        query = self.encoder.embed_query(question.text)
        sims: list[np.ndarray] = []
        for text in texts:
            sentences = [s for _, s in text.sentences]
            if not sentences:
                sims.append(np.zeros(0, dtype=np.float32))
                continue
            vectors = self.sentence_cache.get_many(sentences, self.encoder.embed_passages)
            sims.append(vectors @ query)
        rows = passage_rows(question, passages, texts, sims, vocabulary, self.encoder_keys)
        return ReadInput(texts, tuple(sims), rows, tuple(kind_of(question, p) for p in passages))

    def read(
        self, question: Question, passages: Sequence[Passage], vocabulary: Vocabulary | None = None
    ) -> tuple[Reading, ...]:
        vocabulary = vocabulary or self.vocabulary
        if vocabulary is None:
            raise ValueError("the feature reader needs the corpus vocabulary")
        if not passages:
            return ()
        data = self.inputs(question, passages, vocabulary)
        shift = self.weights.open_shift if is_open(question.text, question.lang) else {}
        logits = np.array(
            [
                float(row @ self.weights.passage[kind]) + shift.get(kind, 0.0)
                for row, kind in zip(data.rows, data.kinds, strict=True)
            ]
        )
        readings = []
        for i, passage in enumerate(passages):
            text, kind = data.texts[i], data.kinds[i]
            scores: tuple[SentenceScore, ...] = ()
            if text.sentences:
                s_rows = sentence_rows(question, text, data.sims[i], float(logits[i]), vocabulary)
                s_prob = sigmoid(s_rows @ self.weights.sentence[sentence_kind(kind)])
                scores = tuple(
                    SentenceScore(sentence, start, float(p))
                    for (start, sentence), p in zip(text.sentences, s_prob, strict=True)
                )
            readings.append(Reading(passage, float(sigmoid(np.array(logits[i]))), scores))
        return tuple(readings)

"""The read stage: a reader scores whether each retrieved passage answers the question, and where."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Settings
    from ..embed.base import Embedder
    from ..schema import Reader


def build_reader(settings: Settings, embedders: Sequence[Embedder]) -> Reader | None:
    """The reader over the two bundled encoders' cosines: the cross-encoder when its trained layers are
    committed, else the feature reader; None without USE or without weights (the cosine check decides)."""
    if settings.reader == "none" or len(embedders) < 2:
        return None
    from .linear import DEFAULT_WEIGHTS, FeatureReader

    if not DEFAULT_WEIGHTS.is_file():
        return None
    features = FeatureReader(embedders[-1], (embedders[0].key, embedders[-1].key))
    from .cross import CROSS_WEIGHTS, CrossEncoderReader

    bundled = not (settings.embedding_url or settings.embedding_model)
    if bundled and (CROSS_WEIGHTS / "reader-cross-encoder.json").is_file():
        from ..embed.e5 import DEFAULT_MODEL_DIRNAME

        return CrossEncoderReader(settings.model_cache / DEFAULT_MODEL_DIRNAME, features)
    return features

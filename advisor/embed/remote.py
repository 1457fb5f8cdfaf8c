"""Embeddings from an OpenAI-compatible /v1/embeddings endpoint (a GPU server running vLLM, TEI, Ollama…)."""

from __future__ import annotations

import re
import threading
from typing import Any

import numpy as np

from .base import PrefixedEncoder, e5_prefixes, normalise_rows


class RemoteEmbedder(PrefixedEncoder):
    """A remote embedding model behind LangChain's OpenAIEmbeddings; e5 models get their prefixes."""

    def __init__(
        self, base_url: str, model: str, api_key: str | None = None, timeout_s: float = 60.0
    ) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.key = "remote-" + re.sub(r"[^a-zA-Z0-9._-]+", "-", model).strip("-")[:40]
        self.query_prefix, self.passage_prefix = e5_prefixes(model)
        self._api_key = api_key
        self._timeout = timeout_s
        self._client: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._client is None:
                from langchain_openai import OpenAIEmbeddings
                from pydantic import SecretStr

                self._client = OpenAIEmbeddings(
                    model=self.model,
                    base_url=self.base_url,
                    # Local servers need no key, but the client insists on one.
                    api_key=SecretStr(self._api_key or "not-needed"),
                    check_embedding_ctx_length=False,  # send text, not tiktoken ids: the server has its own tokenizer
                    tiktoken_enabled=False,
                    timeout=self._timeout,
                    max_retries=2,
                    chunk_size=64,
                )
        return self._client

    def _encode(self, texts: list[str]) -> np.ndarray:
        return normalise_rows(np.asarray(self._load().embed_documents(texts), dtype=np.float32))

"""The chat models behind the LLM backends, built from the settings at the entry point.

- `openai`: ChatOpenAI for any OpenAI-compatible server. LangChain drops the `reasoning_content` (DeepSeek,
  vLLM's reasoning parser) and `reasoning` (newer vLLM, OpenRouter) delta fields; here they are kept as the
  chunk's reasoning flag, so a thinking model shows as thinking, and its thoughts still never become text.
- `ollama`: ChatOllama, reading Ollama's `thinking` field the same way, without asking the model to think.

Each backend reads replies with one async HTTP client (one connection pool), used only on the shared event
loop (`aio.py`). `thinking="off"` asks a reasoning model not to think, where the server has a way to say it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..config import LLM_BACKENDS
from .llm import REASONING, ChatModelFactory, LLMError

if TYPE_CHECKING:
    from ..config import Settings

# How to ask for no thinking: Qwen3 on vLLM / SGLang / llama.cpp reads chat_template_kwargs, DashScope reads
# enable_thinking; servers that know neither ignore them (the OpenAI API itself rejects them: leave it "auto").
NO_THINKING_BODY = {"chat_template_kwargs": {"enable_thinking": False}, "enable_thinking": False}


@dataclass(frozen=True)
class LLMConfig:
    """What a backend needs; built from Settings at the entry point. The key never appears in repr()."""

    backend: str
    model: str
    base_url: str = ""
    api_key: str | None = None
    temperature: float = 0.2
    timeout_s: float = 30.0
    retries: int = 2
    thinking: str = "auto"  # "auto": the model's own default; "off": ask it not to think

    def __repr__(self) -> str:
        return f"LLMConfig(backend={self.backend!r}, model={self.model!r}, base_url={self.base_url!r})"

    @classmethod
    def from_settings(cls, settings: Settings, backend: str) -> LLMConfig:
        return cls(
            backend=backend,
            model=settings.llm_model,
            base_url=settings.llm_base_url,
            api_key=settings.api_key,
            temperature=settings.llm_temperature,
            timeout_s=settings.llm_timeout_s,
            retries=settings.llm_retries,
            thinking=settings.llm_thinking,
        )


def chat_model_factory(config: LLMConfig) -> ChatModelFactory:
    """A function timeout → chat model for `config`; raises LLMError("not_configured") early."""
    if config.backend not in LLM_BACKENDS:
        raise LLMError("unknown_backend", retryable=False)
    if not config.model:
        raise LLMError("not_configured", retryable=False)
    if config.backend == "openai" and not (config.base_url or config.api_key):
        raise LLMError("not_configured", retryable=False)
    # Built here, before any deadline starts: a first import takes seconds.
    return _openai(config) if config.backend == "openai" else _ollama(config)


def _openai(config: LLMConfig) -> ChatModelFactory:
    import openai
    from langchain_openai import ChatOpenAI

    class ReasoningChatOpenAI(ChatOpenAI):
        """ChatOpenAI that keeps a delta's reasoning field as the chunk's reasoning (never its text)."""

        def _convert_chunk_to_generation_chunk(
            self, chunk: dict, default_chunk_class: type, base_generation_info: dict | None
        ) -> Any:
            generation = super()._convert_chunk_to_generation_chunk(
                chunk, default_chunk_class, base_generation_info
            )
            choices = chunk.get("choices") or []
            delta = (choices[0].get("delta") or {}) if choices else {}
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if generation is not None and reasoning:
                generation.message.additional_kwargs[REASONING] = reasoning
            return generation

    pool = openai.DefaultAsyncHttpxClient()
    unused_sync = openai.DefaultHttpxClient()  # given so LangChain does not cache a client per timeout
    extra_body = NO_THINKING_BODY if config.thinking == "off" else None

    def make(timeout: float) -> Any:
        return ReasoningChatOpenAI(
            model=config.model,
            base_url=config.base_url or None,
            # Local servers (vLLM, LM Studio) accept any key; the client insists on one.
            api_key=config.api_key or "not-needed",  # type: ignore[arg-type]
            temperature=config.temperature,
            timeout=timeout,
            max_retries=0,  # retries are ours, under one deadline
            http_async_client=pool,
            http_client=unused_sync,
            extra_body=extra_body,
        )

    return make


def _ollama(config: LLMConfig) -> ChatModelFactory:
    import httpx
    from langchain_ollama import ChatOllama

    class ThinkingChatOllama(ChatOllama):
        """ChatOllama that reports the `thinking` field as reasoning while sending `think` as configured."""

        think: bool | None = None  # None: the model's own default; False: do not think

        def _chat_params(self, messages: list[Any], stop: list[str] | None = None, **kwargs: Any) -> dict:
            params = super()._chat_params(messages, stop, **kwargs)
            params["think"] = self.think  # `reasoning=True` below only makes LangChain keep the field
            return params

    pool = httpx.AsyncHTTPTransport()

    def make(timeout: float) -> Any:
        return ThinkingChatOllama(
            model=config.model,
            base_url=config.base_url or "http://127.0.0.1:11434",
            temperature=config.temperature,
            reasoning=True,
            think=False if config.thinking == "off" else None,
            client_kwargs={"timeout": timeout},
            async_client_kwargs={"transport": pool},
        )

    return make

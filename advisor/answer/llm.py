"""LLM answers through LangChain: chat models for the backends, the LCEL chain, retries under one deadline.

The chain is `prompt | chat model | StrOutputParser` (LCEL); the follow-up rewrite is the same chain over the
condense prompt. Around it: bounded retries with backoff on connection errors, timeouts, HTTP 429/5xx and
empty or malformed output, all inside one total deadline (`llm_timeout_s`) that nothing waits past — the
model is read on a worker thread and the caller stops waiting when time is up. Every failure ends in the
extractive answer (or a refusal) with a reason code; no error text from a server, and never the API key,
reaches the user.

LangChain objects stay in this module; `Delta` events and a `Draft` leave it.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..config import LLM_BACKENDS
from ..schema import Answerer, Citation, Deadline, Delta, Draft, Passage, Question, Turn
from . import messages
from .citations import CitationRewriter, is_grounded, is_refusal, summarise
from .prompts import PromptLibrary, answer_variables, condense_variables

if TYPE_CHECKING:
    from ..config import Settings

log = logging.getLogger(__name__)

ChatModelFactory = Callable[[float], Any]  # timeout in seconds → a LangChain chat model


class LLMError(Exception):
    """A failed model call, as a reason code (`timeout`, `http_503`, `empty_output`, …); no server text."""

    def __init__(self, reason: str, retryable: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


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
        )


def chat_model_factory(config: LLMConfig) -> ChatModelFactory:
    """A function timeout → ChatOpenAI / ChatOllama for `config`; raises LLMError("not_configured") early."""
    if config.backend not in LLM_BACKENDS:
        raise LLMError("unknown_backend", retryable=False)
    if not config.model:
        raise LLMError("not_configured", retryable=False)
    if config.backend == "openai" and not (config.base_url or config.api_key):
        raise LLMError("not_configured", retryable=False)

    # Imported here, before any deadline starts: a first import takes seconds, and an import running on the
    # worker thread would hold import locks that the caller's thread may need.
    if config.backend == "openai":
        from langchain_openai import ChatOpenAI

        def make(timeout: float) -> Any:
            return ChatOpenAI(
                model=config.model,
                base_url=config.base_url or None,
                # Local servers (vLLM, LM Studio) accept any key; the client insists on one.
                api_key=config.api_key or "not-needed",  # type: ignore[arg-type]
                temperature=config.temperature,
                timeout=timeout,
                max_retries=0,  # retries are ours, under one deadline
            )

    else:
        from langchain_ollama import ChatOllama

        def make(timeout: float) -> Any:
            return ChatOllama(
                model=config.model,
                base_url=config.base_url or "http://127.0.0.1:11434",
                temperature=config.temperature,
                client_kwargs={"timeout": timeout},
            )

    return make


def answer_chain(model: Any) -> Any:
    """LCEL: {"system", "user"} → messages → chat model → text."""
    from langchain_core.messages import HumanMessage, SystemMessage
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.runnables import RunnableLambda

    def to_messages(prompt: dict[str, str]) -> list[Any]:
        system = [SystemMessage(prompt["system"])] if prompt["system"] else []
        return [*system, HumanMessage(prompt["user"])]

    return RunnableLambda(to_messages) | model | StrOutputParser()


def classify(exc: BaseException) -> LLMError:
    """Map an exception from openai/ollama/httpx to a reason code; 4xx other than 429 are not retried."""
    if isinstance(exc, LLMError):
        return exc
    seen: BaseException | None = exc
    while seen is not None:
        name = type(seen).__name__
        status = getattr(seen, "status_code", None)
        if isinstance(status, int) and status >= 400:
            if status == 429 or status >= 500:
                return LLMError(f"http_{status}")
            return LLMError("auth_error" if status in (401, 403) else f"http_{status}", retryable=False)
        if "Timeout" in name or isinstance(seen, TimeoutError):
            return LLMError("timeout")
        if (
            "Connect" in name
            or isinstance(seen, ConnectionError)
            or name in ("RemoteProtocolError", "ReadError")
        ):
            return LLMError("connection_error")
        if isinstance(seen, ValueError) and "No generation chunks" in str(seen):
            return LLMError("empty_output")  # LangChain's word for a stream that carried no text
        if isinstance(seen, ValueError | KeyError | TypeError | AttributeError) or "Validation" in name:
            return LLMError("malformed_output")
        seen = seen.__cause__ or seen.__context__
    return LLMError("error")


def redact(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret else text


class _Secret:
    """A value that never prints itself."""

    def __init__(self, value: str | None) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "***"

    __str__ = __repr__


_DONE = object()


def bounded_stream(make: Callable[[], Iterator[str]], deadline: Deadline) -> Iterator[str]:
    """Items of `make()` read on a daemon thread; raises LLMError("timeout") when the deadline passes first."""
    items: queue.Queue[Any] = queue.Queue()
    stop = threading.Event()

    def pump() -> None:
        try:
            for item in make():
                if stop.is_set():
                    return
                items.put(item)
            items.put(_DONE)
        except BaseException as exc:  # handed to the caller's thread
            items.put(exc)

    threading.Thread(target=pump, name="advisor-llm", daemon=True).start()
    try:
        while True:
            try:
                item = items.get(timeout=max(deadline.remaining(), 0.001))
            except queue.Empty:
                raise LLMError("timeout", retryable=False) from None
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()  # the worker stops at its next item; its own HTTP timeout bounds the rest


class LLMAnswerer:
    """Grounded, cited answers from a chat model; falls back to `fallback` (the extractive answerer)."""

    def __init__(
        self,
        backend: str,
        models: ChatModelFactory,
        fallback: Answerer,
        prompts: PromptLibrary,
        *,
        timeout_s: float = 30.0,
        retries: int = 2,
        backoff_s: float = 0.5,
        secret: str | None = None,
    ) -> None:
        self.backend = backend
        self.models = models
        self.fallback = fallback
        self.prompts = prompts
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self._secret = _Secret(secret)  # only ever used to scrub log lines; repr() shows ***

    # --- the model call, with retries -------------------------------------------------------------
    def _call(self, prompt: dict[str, str], deadline: Deadline, *, stream: bool) -> Iterator[str]:
        """Deltas of one answer; retried while nothing has been shown yet; raises LLMError when it gives up."""
        for attempt in range(self.retries + 1):
            shown = False
            try:
                chain = answer_chain(self.models(max(deadline.remaining(), 0.1)))
                run = functools.partial(_run, chain, prompt, stream)
                for delta in bounded_stream(run, deadline):
                    if not isinstance(delta, str):
                        raise LLMError("malformed_output")
                    if delta:
                        shown = shown or bool(delta.strip())
                        yield delta
                if not shown:
                    raise LLMError("empty_output")
                return
            except Exception as exc:
                error = classify(exc)
                log.info(
                    "%s attempt %d failed: %s (%s: %s)",
                    self.backend,
                    attempt + 1,
                    error.reason,
                    type(exc).__name__,
                    redact(str(exc), self._secret.value)[:200],
                )
                wait = self.backoff_s * 2**attempt
                last = attempt == self.retries or shown or not error.retryable
                if last or deadline.remaining() <= wait:
                    raise error from None
                time.sleep(wait)

    # --- follow-up rewriting ----------------------------------------------------------------------
    def rewrite(self, question: Question, history: Sequence[Turn], deadline: Deadline) -> str | None:
        """The model's standalone version of a follow-up; None when the model fails (the heuristic takes over)."""
        rendered = self.prompts.render(
            "condense", question.lang, **condense_variables(question.text, history[-4:])
        )
        prompt = {"system": "", "user": rendered.text}  # the condense prompt is one self-contained message
        try:
            return "".join(self._call(prompt, deadline.sub(1 / 3), stream=False))
        except LLMError as exc:
            log.info("%s rewrite failed (%s); using the heuristic", self.backend, exc.reason)
            return None

    # --- free-standing prompts ---------------------------------------------------------------------
    def complete(self, system: str, user: str, deadline: Deadline | None = None) -> str:
        """The whole reply to one rendered prompt pair, with the same retries and deadline; raises LLMError."""
        deadline = deadline or Deadline(self.timeout_s)
        return "".join(self._call({"system": system, "user": user}, deadline, stream=False))

    # --- answers ----------------------------------------------------------------------------------
    def stream(
        self, question: Question, passages: Sequence[Passage], deadline: Deadline | None = None
    ) -> Generator[Delta, None, Draft]:
        """Yield checked text deltas as the model writes; return the Draft (`draft = yield from ...`)."""
        deadline = deadline or Deadline(self.timeout_s)
        variables = answer_variables(question.text, passages, question.lang)
        system = self.prompts.render("system", question.lang, **variables)
        user = self.prompts.render("answer", question.lang, **variables)
        ref = f"answer.{question.lang}@{_combined_hash(system.ref, user.ref)}"
        rewriter = CitationRewriter(len(passages))
        try:
            for delta in self._call({"system": system.text, "user": user.text}, deadline, stream=True):
                out = rewriter.feed(delta)
                if out:
                    yield Delta(out)
            tail = rewriter.finish()
            if tail:
                yield Delta(tail)
        except LLMError as exc:
            return self._fall_back(question, passages, exc.reason, ref, rewriter.dropped)
        cited = summarise(rewriter)
        if is_refusal(cited.text, question.lang):
            return Draft(
                messages.REFUSAL[question.lang], (), refused=True, prompt=ref, dropped_citations=cited.dropped
            )
        if not is_grounded(cited):
            reason = "no_valid_citations" if not cited.order else "uncited_claims"
            return self._fall_back(question, passages, reason, ref, cited.dropped)
        citations = tuple(Citation(n, passages[p - 1]) for n, p in enumerate(cited.order, 1))
        return Draft(cited.text, citations, prompt=ref, dropped_citations=cited.dropped)

    def answer(self, question: Question, passages: Sequence[Passage]) -> Draft:
        """The Answerer protocol: the whole Draft at once."""
        return drain(self.stream(question, passages))

    def _fall_back(
        self, question: Question, passages: Sequence[Passage], reason: str, ref: str, dropped: int
    ) -> Draft:
        log.info("%s answer not usable (%s); falling back to the extractive answer", self.backend, reason)
        draft = self.fallback.answer(question, passages)
        if draft.refused or not draft.citations:
            return Draft(
                messages.REFUSAL[question.lang],
                (),
                True,
                prompt=ref,
                dropped_citations=dropped,
                fallback=reason,
            )
        return Draft(draft.text, draft.citations, prompt=ref, dropped_citations=dropped, fallback=reason)


def drain(stream: Generator[Delta, None, Draft]) -> Draft:
    """Run a draft stream to its end and return its Draft."""
    while True:
        try:
            next(stream)
        except StopIteration as stop:
            return stop.value


def _run(chain: Any, prompt: dict[str, str], stream: bool) -> Iterator[str]:
    return chain.stream(prompt) if stream else iter([chain.invoke(prompt)])


def _combined_hash(*refs: str) -> str:
    """One hash over the system and answer templates: the answer's "prompt" field names what produced it."""
    import hashlib

    return hashlib.sha256("|".join(refs).encode()).hexdigest()[:8]

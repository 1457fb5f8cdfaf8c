"""LLM answers through LangChain: the LCEL chain, retries under one deadline, thinking kept out of the answer.

The chain is `prompt | chat model` (LCEL); the follow-up rewrite and the eval's judge run the same chain over
their own prompts. `ModelCaller` runs it:
- replies are read on the shared event loop (`aio.py`), so a deadline cancels the HTTP request itself;
- thinking, in its own field or as `<think>…</think>`, becomes a `Thinking` signal and never text
  (`thinking.py`); thinking counts against the deadline like everything else (`thinking_timeout`);
- connection errors, timeouts, HTTP 429/5xx and empty or malformed output are retried with backoff, or after
  the server's Retry-After, all inside one total deadline (`llm_timeout_s`); a Retry-After that would pass
  the deadline ends the call at once (`rate_limited`).
Every failure ends in the extractive answer (or a refusal) with a reason code; no error text from a server,
and never the API key, reaches the user.

LangChain objects stay in this module and `backends.py`; `Delta`/`Thinking` events and a `Draft` leave it.
"""

from __future__ import annotations

import email.utils
import logging
import queue
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterator, Sequence
from typing import Any

from ..schema import Answerer, Citation, Deadline, Delta, Draft, Passage, Progress, Question, Thinking, Turn
from . import messages
from .aio import END, Reply
from .citations import CitationRewriter, is_grounded, is_refusal, summarise
from .prompts import PromptLibrary, answer_variables, condense_variables
from .thinking import ThinkFilter

log = logging.getLogger(__name__)

ChatModelFactory = Callable[[float], Any]  # HTTP timeout in seconds → a LangChain chat model
REASONING = "reasoning_content"  # where the adapters put a chunk's reasoning (in additional_kwargs)
_HTTP_TIMEOUT_MARGIN_S = 1.0  # the client's own timeout is a backstop: our deadline decides first


class LLMError(Exception):
    """A failed model call, as a reason code (`timeout`, `http_503`, `empty_output`, …); no server text."""

    def __init__(self, reason: str, retryable: bool = True, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after  # seconds the server asked us to wait, when it said


def answer_chain(model: Any) -> Any:
    """LCEL: {"system", "user"} → messages → chat model → message chunks (text and reasoning kept apart)."""
    from langchain_core.messages import HumanMessage, SystemMessage
    from langchain_core.runnables import RunnableLambda

    def to_messages(prompt: dict[str, str]) -> list[Any]:
        system = [SystemMessage(prompt["system"])] if prompt["system"] else []
        return [*system, HumanMessage(prompt["user"])]

    async def ato_messages(prompt: dict[str, str]) -> list[Any]:
        return to_messages(prompt)  # given, so LangChain does not run the step on an executor thread

    return RunnableLambda(to_messages, afunc=ato_messages) | model


def message_parts(message: Any) -> tuple[str, bool]:
    """(answer text, whether it carried reasoning) of a message chunk; reasoning never becomes text."""
    reasoning = bool((getattr(message, "additional_kwargs", None) or {}).get(REASONING))
    content = getattr(message, "content", None)
    if isinstance(content, str):
        return content, reasoning
    if not isinstance(content, list):
        raise LLMError("malformed_output")
    texts: list[str] = []
    for block in content:  # content blocks: text, or the model's reasoning ("reasoning" / "thinking")
        kind = block.get("type") if isinstance(block, dict) else "text"
        if kind in ("reasoning", "thinking"):
            reasoning = True
        elif kind == "text":
            texts.append(block if isinstance(block, str) else str(block.get("text", "")))
    return "".join(texts), reasoning


def retry_after(exc: BaseException) -> float | None:
    """Seconds an error response asked us to wait (retry-after-ms, or Retry-After in seconds or as an HTTP
    date), or None when it did not say. The response may sit further down the chain: Ollama's client raises
    its own error from the HTTP one."""
    seen: BaseException | None = exc
    while seen is not None and getattr(getattr(seen, "response", None), "headers", None) is None:
        seen = seen.__cause__ or seen.__context__
    if seen is None:
        return None
    headers = seen.response.headers  # type: ignore[attr-defined]
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        try:
            return max(0.0, float(headers.get(name)) / scale)
        except (TypeError, ValueError):
            continue
    try:
        when = email.utils.parsedate_to_datetime(headers.get("retry-after"))
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - time.time())


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
                return LLMError(f"http_{status}", retry_after=retry_after(seen))
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


class ModelCaller:
    """One chat model behind bounded retries and a deadline: yields answer text and thinking signals."""

    def __init__(
        self,
        backend: str,
        models: ChatModelFactory,
        *,
        retries: int = 2,
        backoff_s: float = 0.5,
        secret: str | None = None,
    ) -> None:
        self.backend = backend
        self.models = models
        self.retries = retries
        self.backoff_s = backoff_s
        self._secret = _Secret(secret)  # only ever used to scrub log lines; repr() shows ***

    def stream(
        self, prompt: dict[str, str], deadline: Deadline, *, stream: bool = True
    ) -> Iterator[Progress]:
        """Events of one reply; retried while no answer text has been shown; raises LLMError when it gives up."""
        for attempt in range(self.retries + 1):
            shown = False
            try:
                for event in self._attempt(prompt, deadline, stream):
                    if isinstance(event, Delta):
                        shown = shown or bool(event.text.strip())
                    elif event.retract:
                        shown = False
                    yield event
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
                if attempt == self.retries or shown or not error.retryable:
                    raise error from None
                wait = self.backoff_s * 2**attempt if error.retry_after is None else error.retry_after
                if wait >= deadline.remaining():
                    if error.reason == "http_429":
                        raise LLMError("rate_limited", retryable=False) from None
                    raise error from None
                time.sleep(wait)

    def text(self, prompt: dict[str, str], deadline: Deadline) -> str:
        """A whole reply, not streamed, without its thinking."""
        parts: list[str] = []
        for event in self.stream(prompt, deadline, stream=False):
            if isinstance(event, Delta):
                parts.append(event.text)
            elif event.retract:
                parts.clear()
        return "".join(parts)

    def _attempt(self, prompt: dict[str, str], deadline: Deadline, stream: bool) -> Iterator[Progress]:
        """One request; when the deadline passes, its task is cancelled and its response closed."""
        chain = answer_chain(self.models(deadline.remaining() + _HTTP_TIMEOUT_MARGIN_S))
        reply = Reply(_source(chain, prompt, stream))
        think = ThinkFilter()
        try:
            while True:
                try:
                    item = reply.get(deadline.remaining())
                except queue.Empty:
                    reason = "thinking_timeout" if think.thinking else "timeout"
                    raise LLMError(reason, retryable=False) from None
                if item is END:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield from think.feed(*message_parts(item))
            yield from think.finish()
        finally:
            reply.cancel()


def _source(chain: Any, prompt: dict[str, str], stream: bool) -> Callable[[], AsyncIterator[Any]]:
    """What the event loop reads: the streamed chunks, or the one message of a plain call."""
    if stream:
        return lambda: chain.astream(prompt)

    async def whole() -> AsyncIterator[Any]:
        yield await chain.ainvoke(prompt)

    return whole


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
        self.model = ModelCaller(backend, models, retries=retries, backoff_s=backoff_s, secret=secret)
        self.fallback = fallback
        self.prompts = prompts
        self.timeout_s = timeout_s

    # --- follow-up rewriting ----------------------------------------------------------------------
    def rewrite(self, question: Question, history: Sequence[Turn], deadline: Deadline) -> str | None:
        """The model's standalone version of a follow-up; None when the model fails (the heuristic takes over)."""
        rendered = self.prompts.render(
            "condense", question.lang, **condense_variables(question.text, history[-4:])
        )
        prompt = {"system": "", "user": rendered.text}  # the condense prompt is one self-contained message
        try:
            return self.model.text(prompt, deadline.sub(1 / 3))
        except LLMError as exc:
            log.info("%s rewrite failed (%s); using the heuristic", self.backend, exc.reason)
            return None

    # --- free-standing prompts ---------------------------------------------------------------------
    def complete(self, system: str, user: str, deadline: Deadline | None = None) -> str:
        """The whole reply to one rendered prompt pair, with the same retries and deadline; raises LLMError."""
        deadline = deadline or Deadline(self.timeout_s)
        return self.model.text({"system": system, "user": user}, deadline)

    # --- answers ----------------------------------------------------------------------------------
    def stream(
        self,
        question: Question,
        passages: Sequence[Passage],
        deadline: Deadline | None = None,
        profile: str | None = None,
    ) -> Generator[Progress, None, Draft]:
        """Yield checked text deltas (and thinking signals) as the model writes; return the Draft.

        `passages` are in reading order: their [n] in the prompt follow it. Citations are parsed from the
        answer text alone, never from the thinking.
        """
        deadline = deadline or Deadline(self.timeout_s)
        variables = answer_variables(question.text, passages, question.lang, profile)
        system = self.prompts.render("system", question.lang, **variables)
        user = self.prompts.render("answer", question.lang, **variables)
        ref = f"answer.{question.lang}@{_combined_hash(system.ref, user.ref)}"
        rewriter = CitationRewriter(len(passages))
        try:
            for event in self.model.stream({"system": system.text, "user": user.text}, deadline):
                if isinstance(event, Thinking):
                    if event.retract:  # what was rewritten so far was thinking: so were its markers
                        rewriter = CitationRewriter(len(passages))
                    yield event
                    continue
                out = rewriter.feed(event.text)
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


def drain(stream: Generator[Progress, None, Draft]) -> Draft:
    """Run a draft stream to its end and return its Draft."""
    while True:
        try:
            next(stream)
        except StopIteration as stop:
            return stop.value


def _combined_hash(*refs: str) -> str:
    """One hash over the system and answer templates: the answer's "prompt" field names what produced it."""
    import hashlib

    return hashlib.sha256("|".join(refs).encode()).hexdigest()[:8]

"""The Ask tab's handlers: plain functions of (core or store, inputs, request) that return named updates.

They know nothing of the layout: `app.py` binds them to components through `updates.bind`. Tests call them
with a fake core (tests/fakes/core.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import gradio as gr

from ..answer.question import QuestionError
from ..feedback import FeedbackError, FeedbackStore, RateLimiter, check_payload
from ..i18n import t
from ..schema import Answer, AnswerStream, Delta, Thinking, Turn
from . import render
from .updates import Updates

FEEDBACK = ("Like", "Dislike")
HISTORY_TURNS = 6  # what a follow-up may lean on


class Core(Protocol):
    """What the Ask tab needs from advisor.core.Advisor."""

    def stream(self, raw_question: str, *, history: Sequence[Turn] = ()) -> AnswerStream: ...


@dataclass(frozen=True)
class Conversation:
    """What one browser tab remembers: the messages shown, the turns asked, the Answer behind each reply."""

    messages: tuple[dict[str, str], ...] = ()
    turns: tuple[Turn, ...] = ()
    answers: Mapping[int, Answer] = field(default_factory=dict)  # message index → its answer

    def last_answer(self) -> Answer | None:
        return self.answers.get(len(self.messages) - 1) if self.messages else None


def chat_update(messages: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    """The chatbot's new value: a plain list, which is also what an API client of /ask receives.

    No placeholder reply is added while the answer is prepared (Gradio shows its own pending dots, without
    👍/👎); a reply that is still being written ends with ▍, and the stylesheet hides its buttons.
    """
    return list(messages)


def ask(
    core: Core, question: str, conversation: Conversation, lang: str, *, fresh: bool = False
) -> Iterator[Updates]:
    """Answer a question as it is written, then show its sources; `fresh` ignores the conversation so far.

    A question the core refuses to take (empty, no words) is taken off the screen again and put back in the
    box, with the reason as an error that the page and API clients both see.
    """
    question = (question or "").strip()
    if not question:  # Enter on an empty box: nothing to do
        yield {}
        return
    before = conversation.messages
    messages = [*before, {"role": "user", "content": render.chat_text(question)}]
    yield {"box": "", "chatbot": chat_update(messages)}
    history = () if fresh else conversation.turns[-HISTORY_TURNS:]
    stream = core.stream(question, history=history)
    text = ""
    try:
        for event in stream.events():
            if isinstance(event, Delta):
                text += event.text
            elif event.retract:  # it closed a </think> it never opened: what was shown was thinking
                text = ""
            thinking = isinstance(event, Thinking)
            shown = [*messages, {"role": "assistant", "content": render.partial_text(text, thinking, lang)}]
            yield {"box": "", "chatbot": chat_update(shown)}
        answer = stream.answer
    except QuestionError as exc:
        yield {"box": question, "chatbot": chat_update(before)}
        raise gr.Error(t(lang, "error", reason=str(exc)), title="advisor") from None
    messages.append({"role": "assistant", "content": render.answer_text(answer)})
    updated = Conversation(
        messages=tuple(messages),
        turns=(*conversation.turns, (question, answer.text)),
        answers={**conversation.answers, len(messages) - 1: answer},
    )
    yield {
        "box": "",
        "chatbot": chat_update(messages),
        "conversation": updated,
        "sources": render.sources_html(answer, lang),
    }


def ask_example(core: Core, question: str, conversation: Conversation, lang: str) -> Iterator[Updates]:
    """An example question always stands alone: an earlier turn never turns it into a follow-up."""
    yield from ask(core, question, conversation, lang, fresh=True)


def new_chat(lang: str) -> Updates:
    """Everything about the conversation goes: messages, turns, answers and the sources panel."""
    return {
        "box": "",
        "chatbot": chat_update([]),
        "conversation": Conversation(),
        "sources": render.sources_html(None, lang),
    }


def _index(event: gr.SelectData | gr.LikeData) -> int:
    return event.index if isinstance(event.index, int) else int(event.index[0])


def show_sources(conversation: Conversation, lang: str, event: gr.SelectData) -> Updates:
    """Clicking an earlier answer shows its sources again."""
    answer = conversation.answers.get(_index(event))
    return {} if answer is None else {"sources": render.sources_html(answer, lang)}


def client_key(request: gr.Request | None) -> str:
    """Who is rating, for the rate limit: the peer address, or the first forwarded one behind a local proxy."""
    if request is None or request.client is None:
        return "unknown"
    host = str(request.client.host)
    forwarded = request.headers.get("x-forwarded-for") if request.headers else None
    if forwarded and host in ("127.0.0.1", "::1", "localhost"):
        return forwarded.split(",")[0].strip() or host
    return host


def _allow(limiter: RateLimiter, request: gr.Request | None) -> None:
    wait = limiter.wait_s(client_key(request))
    if wait > 0:
        raise FeedbackError("feedback_rate", seconds=max(1, round(wait)))


def rate(
    store: FeedbackStore,
    limiter: RateLimiter,
    conversation: Conversation,
    lang: str,
    event: gr.LikeData,
    request: gr.Request,
) -> Updates:
    """👍/👎 under an answer: stored with the answer and its sources; a second vote from a fast clicker waits."""
    answer = conversation.answers.get(_index(event))
    if answer is None or event.liked is None or event.liked == "":
        return {}
    try:
        _allow(limiter, request)
    except FeedbackError as exc:
        gr.Warning(exc.message(lang))
        return {}
    store.record(
        "up" if event.liked is True or event.liked == "Like" else "down",
        answer.question,
        answer.text,
        citations=render.citations_payload(answer),
        lang=answer.lang,
        backend=answer.backend,
        refused=answer.refused,
    )
    gr.Info(t(lang, "thanks"))
    return {}


def feedback_api(
    store: FeedbackStore,
    limiter: RateLimiter,
    question: str,
    answer: str,
    rating: str,
    citations: str,
    request: gr.Request | None,
) -> int:
    """The /feedback endpoint: capped fields, limited rate per client, a clear error otherwise."""
    try:
        cited = check_payload(rating, question or "", answer or "", citations or "[]")
        _allow(limiter, request)
        return store.record(rating, question, answer, citations=cited)
    except FeedbackError as exc:
        raise gr.Error(exc.message("en"), title="advisor") from None


def relabel(conversation: Conversation, lang: str) -> Updates:
    """The Ask tab in another interface language (the conversation itself stays as it was written)."""
    return {
        "box": gr.update(placeholder=t(lang, "placeholder")),
        "send": gr.update(value=t(lang, "send")),
        "new_chat": gr.update(value=t(lang, "new_chat")),
        "examples_label": f"**{t(lang, 'examples')}**",
        "sources": render.sources_html(conversation.last_answer(), lang),
    }


def browser_lang(accept_language: str | None) -> str:
    """zh when the browser's first preferred language is Chinese, else en."""
    first = (accept_language or "").split(",")[0].strip().lower()
    return "zh" if first.startswith("zh") else "en"


def detect_language(request: gr.Request) -> Updates:
    """The interface language on first load: the browser's."""
    return {"lang": browser_lang(request.headers.get("accept-language") if request else None)}

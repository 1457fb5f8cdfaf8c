"""The Ask tab's handlers: plain functions of (cores, stores, inputs, request) that return named updates.

They know nothing of the layout: `app.py` binds them to components through `updates.bind`. Tests call them
with a fake core (tests/fakes/core.py). A conversation is kept after every answer (conversations.py) when
its owner is known; regenerate and edit-and-resend answer again from the exchange they start at.
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

import gradio as gr

from ..answer.question import QuestionError
from ..answer.roles import PROFILES, Profile
from ..conversations import ConversationStore, Exchange
from ..i18n import t
from ..schema import Answer, AnswerStream, Chunk, Delta, Inspection, Lang, Thinking, Turn
from . import render
from .stopping import Run, Stops
from .updates import Updates

FEEDBACK = ("Like", "Dislike")
HISTORY_TURNS = 6  # what a follow-up may lean on
SUGGESTIONS = 3  # buttons under the chat
STOP_WAIT_S = 2.0  # how long Stop waits for the writer to see it (a model may be between two tokens)
log = logging.getLogger("advisor.web")


class Core(Protocol):
    """What the page needs from advisor.core.Advisor."""

    def stream(
        self, raw_question: str, *, history: Sequence[Turn] = (), profile: Profile | None = None
    ) -> AnswerStream: ...

    def suggest(self, answer: Answer) -> tuple[str, ...]: ...

    def document(self, doc_id: str, lang: Lang) -> list[Chunk]: ...

    def explain(self, raw_question: str, *, history: Sequence[Turn] = ()) -> Inspection: ...


class Cores(Protocol):
    """The core of each knowledge base (advisor.knowledge.KnowledgeBases; a fake core is its own)."""

    def core(self, kb: str) -> Core: ...


@dataclass(frozen=True)
class Conversation:
    """What one browser tab remembers: the exchanges, whose they are, where they are kept, which base."""

    exchanges: tuple[Exchange, ...] = ()
    conversation_id: str | None = None  # set once the conversation is stored
    owner: str | None = None  # "user:…" or "browser:…"; None: not kept (an API client)
    kb: str = ""  # the knowledge base it asks ("" = the bundled corpus)
    profile: str = (
        ""  # who is asking ("sme", "park", "official", "consultant"; "" = whoever the question implies)
    )

    @property
    def messages(self) -> list[dict[str, str]]:
        """The chatbot's messages: question, then answer (or what was written before a stop), per exchange."""
        out = []
        for exchange in self.exchanges:
            out.append({"role": "user", "content": render.chat_text(exchange.question)})
            shown = render.answer_text(exchange.answer) if exchange.answer else render.stopped_text(exchange)
            out.append({"role": "assistant", "content": shown})
        return out

    @property
    def turns(self) -> tuple[Turn, ...]:
        """(question, answer text) of every answered exchange: what a follow-up may refer to."""
        return tuple((e.question, e.answer.text) for e in self.exchanges if e.answer is not None)

    @property
    def answers(self) -> Mapping[int, Answer]:
        """Message index → the Answer shown there."""
        return {2 * i + 1: e.answer for i, e in enumerate(self.exchanges) if e.answer is not None}

    def last_answer(self) -> Answer | None:
        return self.exchanges[-1].answer if self.exchanges else None

    def answered(self, number: int) -> Answer | None:
        """The answer of the exchange `number` (0-based), if it was answered."""
        return self.exchanges[number].answer if 0 <= number < len(self.exchanges) else None

    def upto(self, exchange: int) -> Conversation:
        """The same conversation with only the exchanges before `exchange` (to answer again from there)."""
        return dataclasses.replace(self, exchanges=self.exchanges[: max(0, exchange)])


STOPS: Stops[Conversation] = Stops()  # the answers being written, by browser tab


def chat_update(messages: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    """The chatbot's new value: a plain list, which is also what an API client of /ask receives.

    No placeholder reply is added while the answer is prepared (Gradio shows its own pending dots, without
    👍/👎); a reply that is still being written ends with ▍, and the stylesheet hides its buttons.
    """
    return list(messages)


def _keep(store: ConversationStore | None, conversation: Conversation) -> Conversation:
    """Store the conversation for its owner (a new id the first time); answering goes on if storing fails."""
    if store is None or conversation.owner is None or not conversation.turns:
        return conversation
    try:
        saved = store.save(
            conversation.owner, conversation.conversation_id, conversation.exchanges, conversation.kb
        )
    except (sqlite3.Error, OSError, PermissionError):
        log.exception("the conversation could not be stored")
        return conversation
    return dataclasses.replace(conversation, conversation_id=saved)


def respond(
    cores: Cores,
    store: ConversationStore | None,
    question: str,
    conversation: Conversation,
    lang: str,
    *,
    fresh: bool = False,
    tab: str | None = None,
) -> Iterator[Updates]:
    """Answer a question after `conversation` as it is written, then show its sources and keep it.

    `fresh` ignores the conversation so far. A question the core refuses to take (empty, no words) is taken
    off the screen again and put back in the box, with the reason as an error the page and API clients see.
    `tab` (the browser tab's session) is what Stop stops: once pressed, the text so far stays, marked.
    """
    question = (question or "").strip()
    if not question:  # Enter on an empty box: nothing to do
        yield {}
        return
    before = conversation
    pending = Exchange(question, None)
    shown = dataclasses.replace(before, exchanges=(*before.exchanges, pending))
    messages = shown.messages[:-1]
    yield {"box": "", "chatbot": chat_update(messages), "conversation": shown}
    history = () if fresh else before.turns[-HISTORY_TURNS:]
    stream = cores.core(before.kb).stream(question, history=history, profile=profile_of(before))
    run = STOPS.begin(tab, shown)
    try:
        yield from _write(stream, run, store, question, before, messages, lang)
    finally:
        stream.close()
        STOPS.end(tab, run)


def _write(
    stream: AnswerStream,
    run: Run[Conversation],
    store: ConversationStore | None,
    question: str,
    before: Conversation,
    messages: list[dict[str, str]],
    lang: str,
) -> Iterator[Updates]:
    """The answer as it is written, piece by piece, until it is done or Stop is pressed."""
    text = ""
    try:
        for event in stream.events():
            if isinstance(event, Delta):
                text += event.text
            elif event.retract:  # it closed a </think> it never opened: what was shown was thinking
                text = ""
            thinking = isinstance(event, Thinking)
            writing = {"role": "assistant", "content": render.partial_text(text, thinking, lang)}
            so_far = Exchange(question, None, text)  # what a stop keeps
            state = dataclasses.replace(before, exchanges=(*before.exchanges, so_far))
            if not run.show(state):
                yield _stopped(run)
                return
            yield {"box": "", "chatbot": chat_update([*messages, writing]), "conversation": state}
        answer = stream.answer
    except QuestionError as exc:
        yield {"box": question, "chatbot": chat_update(before.messages), "conversation": before}
        raise gr.Error(t(lang, "error", reason=str(exc)), title="advisor") from None
    done = dataclasses.replace(before, exchanges=(*before.exchanges, Exchange(question, answer)))
    if not run.show(done):
        yield _stopped(run)
        return
    done = _keep(store, done)
    yield {
        "box": "",
        "chatbot": chat_update(done.messages),
        "conversation": done,
        "sources": render.sources_html(answer, lang),
    }


def _stopped(run: Run[Conversation]) -> Updates:
    """What Stop showed: the text written when it was pressed, marked stopped, and not kept."""
    state = run.stopped_state
    return {"box": "", "chatbot": chat_update(state.messages), "conversation": state}


def profile_of(conversation: Conversation) -> Profile | None:
    return cast(Profile, conversation.profile) if conversation.profile in PROFILES else None


def choose_profile(conversation: Conversation, profile: str) -> Updates:
    """The "I am…" chooser: the next answers put that client's passages and actions first."""
    chosen = profile if profile in PROFILES else ""
    return {"conversation": dataclasses.replace(conversation, profile=chosen)}


def ask(
    cores: Cores,
    store: ConversationStore | None,
    question: str,
    conversation: Conversation,
    lang: str,
    request: gr.Request | None = None,
) -> Iterator[Updates]:
    """The question box (and a suggested follow-up): asked after the conversation so far."""
    yield from respond(cores, store, question, conversation, lang, tab=tab_of(request))


def ask_example(
    cores: Cores,
    store: ConversationStore | None,
    question: str,
    conversation: Conversation,
    lang: str,
    request: gr.Request | None = None,
) -> Iterator[Updates]:
    """An example question always stands alone: an earlier turn never turns it into a follow-up."""
    yield from respond(cores, store, question, conversation, lang, fresh=True, tab=tab_of(request))


def tab_of(request: gr.Request | None) -> str | None:
    """The browser tab (Gradio session) a handler serves: what Stop is pressed in."""
    return getattr(request, "session_hash", None) or None


def _exchange_of(event: Any) -> int:
    """The exchange a chatbot event points at: messages alternate question, answer."""
    return index_of(event) // 2


def message_text(value: Any) -> str:
    """The text of a chatbot message value (a string, a {"text": …} part, or a list of parts)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return str(value.get("text") or value.get("content") or "")
    if isinstance(value, list | tuple):
        return "".join(message_text(part) for part in value)
    return ""


def regenerate(
    cores: Cores,
    store: ConversationStore | None,
    conversation: Conversation,
    lang: str,
    event: gr.RetryData,
    request: gr.Request | None = None,
) -> Iterator[Updates]:
    """🔄 under an answer: the same question answered again, in place of that answer and what followed."""
    number = _exchange_of(event)
    if not 0 <= number < len(conversation.exchanges):
        yield {}
        return
    question = conversation.exchanges[number].question
    yield from respond(cores, store, question, conversation.upto(number), lang, tab=tab_of(request))


def edit(
    cores: Cores,
    store: ConversationStore | None,
    conversation: Conversation,
    lang: str,
    event: gr.EditData,
    request: gr.Request | None = None,
) -> Iterator[Updates]:
    """An edited question is asked again: the exchanges from it on are replaced by the new answer."""
    import html

    number = _exchange_of(event)
    question = html.unescape(message_text(event.value)).strip()
    if not 0 <= number < len(conversation.exchanges) or not question:
        yield {"chatbot": chat_update(conversation.messages)}
        return
    yield from respond(cores, store, question, conversation.upto(number), lang, tab=tab_of(request))


def stop(conversation: Conversation, lang: str, request: gr.Request | None = None) -> Updates:
    """Stop: the answer being written stays on screen as far as it got, marked as stopped (not kept).

    The writer sees the stop before its next piece and shows the same text (stopping.py); nothing changes
    if no answer is being written in this tab (it finished before Stop arrived).
    """
    state = STOPS.stop(tab_of(request), STOP_WAIT_S)
    return {} if state is None else {"chatbot": chat_update(state.messages)}


def suggestions(cores: Cores, conversation: Conversation) -> Updates:
    """2–3 follow-up questions under the last answer (hidden when there are none)."""
    answer = conversation.last_answer()
    found = cores.core(conversation.kb).suggest(answer) if answer is not None else ()
    found = found[:SUGGESTIONS]
    return {
        f"suggest_{i}": gr.update(value=found[i] if i < len(found) else "", visible=i < len(found))
        for i in range(SUGGESTIONS)
    }


def new_chat(conversation: Conversation, lang: str) -> Updates:
    """Everything about the conversation goes (messages, turns, sources); whose it is and its base stay."""
    fresh = Conversation(owner=conversation.owner, kb=conversation.kb, profile=conversation.profile)
    return {
        "box": "",
        "chatbot": chat_update([]),
        "conversation": fresh,
        "sources": render.sources_html(None, lang),
    }


def index_of(event: gr.SelectData | gr.LikeData | Any) -> int:
    return event.index if isinstance(event.index, int) else int(event.index[0])


def show_sources(conversation: Conversation, lang: str, event: gr.SelectData) -> Updates:
    """Clicking an earlier answer shows its sources again."""
    answer = conversation.answers.get(index_of(event))
    return {} if answer is None else {"sources": render.sources_html(answer, lang)}


def relabel(conversation: Conversation, lang: str) -> Updates:
    """The Ask tab in another interface language (the conversation itself stays as it was written)."""
    return {
        "box": gr.update(placeholder=t(lang, "placeholder")),
        "send": gr.update(value=t(lang, "send")),
        "stop": gr.update(value=t(lang, "stop")),
        "new_chat": gr.update(value=t(lang, "new_chat")),
        "examples_label": f"**{t(lang, 'examples')}**",
        "suggest_label": f"**{t(lang, 'suggested')}**",
        "sources": render.sources_html(conversation.last_answer(), lang),
    }


def browser_lang(accept_language: str | None) -> str:
    """zh when the browser's first preferred language is Chinese, else en."""
    first = (accept_language or "").split(",")[0].strip().lower()
    return "zh" if first.startswith("zh") else "en"


def detect_language(request: gr.Request) -> Updates:
    """The interface language on first load: the browser's."""
    return {"lang": browser_lang(request.headers.get("accept-language") if request else None)}

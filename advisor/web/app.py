"""The web page's wiring: layout (layout.py) + handlers (chat, library_tab, reader, history, inspector).

Every event has an explicit api_name. Questions and document changes run under separate concurrency
groups, so a long upload never holds up anyone's question; document changes queue in the library, which
tells each waiting upload its place. `server.py` serves the page beside the OpenAI-compatible API.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import gradio as gr

from ..auth import Access
from ..config import Settings
from ..conversations import ConversationStore
from ..feedback import FeedbackStore, RateLimiter
from ..i18n import t
from ..knowledge import KnowledgeBases
from . import chat, history, inspector, library_tab, reader, render
from .layout import Components, ExtraTab, build_layout, header_html, profile_choices
from .rating import feedback_api, rate
from .updates import Updates, bind, guard

CSS_PATH = Path(__file__).with_name("style.css")
CHAT_OUT = ["box", "chatbot", "conversation", "sources"]  # /ask returns (box, chatbot, sources)
SUGGEST_OUT = [f"suggest_{i}" for i in range(chat.SUGGESTIONS)]

RELABELLED = [
    "header",
    "tab_chat",
    "tab_docs",
    "settings_line",
    "box",
    "send",
    "stop",
    "new_chat",
    "examples_label",
    "suggest_label",
    "sources",
    "export_button",
    "history",
    "kb_choice",
    "profile",
    "user_line",
    "reader_prev",
    "reader_next",
    "reader_close",
    "tab_inspect",
    "inspect_hint",
    "inspect_box",
    "inspect_follow",
    "inspect_button",
    "upload_hint",
    "files",
    "upload_button",
    "remove_button",
    "confirm_button",
    "cancel_button",
    "docs_label",
    "table",
    "remove_choice",
]


def user_line(request: gr.Request | None, lang: str, can_sign_out: bool) -> str:
    """Who is signed in (empty without login), with a sign-out link when Gradio's own login is used."""
    user = getattr(request, "username", None) if request is not None else None
    if not user:
        return ""
    line = render.escape_markdown(t(lang, "signed_in", user=user))
    return f"{line} · [{t(lang, 'logout')}](logout)" if can_sign_out else line


def relabel_page(
    bases: KnowledgeBases,
    settings: Settings,
    access: Access,
    store: ConversationStore,
    conversation: chat.Conversation,
    lang: str,
    request: gr.Request,
) -> Updates:
    """The whole page in the new interface language; what was said in the conversation stays as it was."""
    return {
        "header": header_html(lang),
        "tab_chat": gr.update(label=t(lang, "tab_chat")),
        "tab_docs": gr.update(label=t(lang, "tab_docs")),
        "settings_line": render.settings_markdown(settings.llm_backend, settings.top_k, lang),
        "kb_choice": gr.update(choices=bases.choices(lang), label=t(lang, "kb_label")),
        "profile": gr.update(choices=profile_choices(lang), label=t(lang, "profile_label")),
        "user_line": user_line(request, lang, access.mode == "password"),
        **chat.relabel(conversation, lang),
        **history.choices(store, conversation, lang),
        **history.relabel(lang),
        **reader.relabel(lang),
        **inspector.relabel(lang),
        **library_tab.relabel(
            bases, conversation, lang, settings.max_upload_mb, settings.upload_max_passages
        ),
    }


def on_load(
    bases: KnowledgeBases,
    store: ConversationStore,
    access: Access,
    conversation: chat.Conversation,
    browser_id: str | None,
    request: gr.Request,
) -> Updates:
    """First load: the browser's language, whose conversations these are, their list, who is signed in."""
    lang = chat.detect_language(request)["lang"]
    started = history.start(conversation, browser_id, request)
    return {
        "lang": lang,
        **started,
        **history.choices(store, started["conversation"], lang),
        "user_line": user_line(request, lang, access.mode == "password"),
        "kb_choice": gr.update(choices=bases.choices(lang)),
    }


def switch_kb(bases: KnowledgeBases, conversation: chat.Conversation, kb: str, lang: str) -> Updates:
    """Another knowledge base: a new conversation in it, and its documents on the Documents tab."""
    moved = chat.Conversation(owner=conversation.owner, kb=kb or "", profile=conversation.profile)
    return {**chat.new_chat(moved, lang), **library_tab.view(bases, moved, lang)}


def build_app(
    bases: KnowledgeBases,
    conversations: ConversationStore,
    feedback: FeedbackStore,
    access: Access,
    extra_tabs: Sequence[ExtraTab] = (),
    secret: str | None = None,
) -> gr.Blocks:
    """The page, its events and its API endpoints (/ask, /upload, /documents, /remove_document, /feedback)."""
    settings = bases.settings
    with gr.Blocks(
        title="advisor — 产业战略顾问 / Industrial Strategy Advisor", delete_cache=(600, 600)
    ) as demo:
        default = bases.core(settings.kb)
        tabs: list[ExtraTab] = [partial(diagnosis_tab, default), *extra_tabs]
        c = build_layout(settings, "zh", tabs, bases.choices("zh"), secret)
        _wire_chat(c, bases, conversations, feedback, settings)
        _wire_tools(c, bases, conversations, settings)
        _wire_documents(c, bases, access, settings)
        fn, outputs = bind(partial(relabel_page, bases, settings, access, conversations), RELABELLED, c)
        c.lang.change(fn, [c.conversation, c.lang], outputs, api_name="relabel", api_visibility="private")
        load_out = ["lang", "conversation", "browser_id", "history", "user_line", "kb_choice"]
        fn, outputs = bind(partial(on_load, bases, conversations, access), load_out, c)
        demo.load(fn, [c.conversation, c.browser_id], outputs, api_name="on_load", api_visibility="private")
    return demo


def _wire_chat(
    c: Components,
    bases: KnowledgeBases,
    conversations: ConversationStore,
    feedback: FeedbackStore,
    settings: Settings,
) -> None:
    """Questions (box, button, examples, suggestions), regenerate, edit, stop, new chat, ratings."""
    ask_args: dict[str, Any] = {"concurrency_id": "chat", "concurrency_limit": settings.web_concurrency}
    private: dict[str, Any] = {"api_visibility": "private", **ask_args}
    after_out = [*SUGGEST_OUT, "suggest_row", "history"]

    def after(conversation: chat.Conversation, lang: str) -> Updates:
        found = chat.suggestions(bases, conversation)
        shown = any(u.get("visible") for u in found.values())
        return {
            **found,
            "suggest_row": gr.update(visible=shown),
            **history.choices(conversations, conversation, lang),
        }

    then, then_out = bind(after, after_out, c)
    hide, hide_out = bind(lambda: {"suggest_row": gr.update(visible=False)}, ["suggest_row"], c)
    events = []

    def question_event(trigger: Any, handler: Any, inputs: list[Any], **names: Any) -> None:
        fn, outputs = bind(partial(handler, bases, conversations), CHAT_OUT, c)
        trigger(
            hide, None, hide_out, queue=False, api_name=f"{names['api_name']}_hide", api_visibility="private"
        )
        event = trigger(fn, inputs, outputs, **names)
        event.then(then, [c.conversation, c.lang], then_out, api_visibility="private")
        events.append(event)

    question_event(c.box.submit, chat.ask, [c.box, c.conversation, c.lang], api_name="ask", **ask_args)
    question_event(c.send.click, chat.ask, [c.box, c.conversation, c.lang], api_name="ask_button", **private)
    for number, button in enumerate(c.examples):
        question_event(
            button.click,
            chat.ask_example,
            [button, c.conversation, c.lang],
            api_name=f"ask_example_{number}",
            **private,
        )
    for number, name in enumerate(SUGGEST_OUT):
        button = getattr(c, name)
        question_event(
            button.click,
            chat.ask,
            [button, c.conversation, c.lang],
            api_name=f"suggested_{number}",
            **private,
        )
    question_event(
        c.chatbot.retry, chat.regenerate, [c.conversation, c.lang], api_name="regenerate", **private
    )
    question_event(c.chatbot.edit, chat.edit, [c.conversation, c.lang], api_name="edit", **private)

    # Stop also tells the writer itself (stopping.py): a cancel alone can arrive after its next piece
    fn, outputs = bind(chat.stop, ["chatbot"], c)
    c.stop.click(
        fn, [c.conversation, c.lang], outputs, cancels=events, api_name="stop", api_visibility="private"
    )
    fn, outputs = bind(chat.new_chat, CHAT_OUT, c)
    c.new_chat.click(fn, [c.conversation, c.lang], outputs, api_name="new_chat", api_visibility="private")
    c.chatbot.clear(fn, [c.conversation, c.lang], outputs, api_name="clear", api_visibility="private")
    fn, outputs = bind(chat.show_sources, ["sources"], c)
    c.chatbot.select(fn, [c.conversation, c.lang], outputs, api_name="show_sources", api_visibility="private")
    limiter = RateLimiter(settings.feedback_per_minute)
    fn, outputs = bind(partial(rate, feedback, limiter), [], c)
    c.chatbot.like(fn, [c.conversation, c.lang], None, api_name="rate", api_visibility="private")

    def record_feedback(
        question: str, answer: str, rating: str, citations: str = "[]", request: gr.Request | None = None
    ) -> int:
        """Record a thumbs up ('up') or down ('down') on an answer; returns the feedback id."""
        return feedback_api(feedback, limiter, question, answer, rating, citations, request)

    gr.api(guard(record_feedback), api_name="feedback")


def _wire_tools(
    c: Components, bases: KnowledgeBases, conversations: ConversationStore, settings: Settings
) -> None:
    """The citation reader, saved conversations and their export, the inspector, the knowledge base chooser."""
    private: dict[str, Any] = {"api_visibility": "private"}
    reader_out = ["reader", "reader_box", "sources", "reader_at", "reader_prev", "reader_next"]
    fn, outputs = bind(partial(reader.open_citation, bases), reader_out, c)
    c.cite_bridge.click(
        fn, [c.conversation, c.lang, c.cite_bridge], outputs, api_name="open_citation", **private
    )
    for button, delta in ((c.reader_prev, -1), (c.reader_next, 1)):
        fn, outputs = bind(partial(reader.step, bases, delta=delta), reader_out, c)
        button.click(
            fn, [c.conversation, c.lang, c.reader_at], outputs, api_name=f"reader_{delta:+d}", **private
        )
    fn, outputs = bind(reader.close, ["reader_box", "sources", "reader_at"], c)
    c.reader_close.click(fn, None, outputs, api_name="reader_close", **private)
    for number, other in enumerate((c.new_chat.click, c.history.input, c.kb_choice.input)):
        other(fn, None, outputs, api_name=f"reader_reset_{number}", **private)  # another conversation

    fn, outputs = bind(partial(history.reopen, conversations), [*CHAT_OUT[1:], "kb_choice"], c)
    c.history.input(fn, [c.conversation, c.history, c.lang], outputs, api_name="reopen", **private)
    export_out = [f"export_{fmt}" for fmt in history.EXPORT_FORMATS]
    fn, outputs = bind(partial(history.export, settings.web_temp_dir), export_out, c)
    c.export_button.click(fn, [c.conversation, c.lang], outputs, api_name="export", **private)

    fn, outputs = bind(partial(inspector.inspect, bases), ["inspect_out"], c)
    inspect_in = [c.inspect_box, c.inspect_follow, c.conversation, c.lang]
    c.inspect_button.click(
        fn,
        inspect_in,
        outputs,
        api_name="inspect",
        concurrency_id="chat",
        concurrency_limit=settings.web_concurrency,
    )
    c.inspect_box.submit(fn, inspect_in, outputs, api_name="inspect_box", **private)

    fn, outputs = bind(chat.choose_profile, ["conversation"], c)
    c.profile.input(fn, [c.conversation, c.profile], outputs, api_name="choose_profile", **private)

    kb_out = [*CHAT_OUT, "table", "remove_choice"]
    fn, outputs = bind(partial(switch_kb, bases), kb_out, c)
    c.kb_choice.input(fn, [c.conversation, c.kb_choice, c.lang], outputs, api_name="switch_kb", **private)


def _wire_documents(c: Components, bases: KnowledgeBases, access: Access, settings: Settings) -> None:
    """Upload, list and remove documents of the chosen knowledge base."""
    doc_args: dict[str, Any] = {"concurrency_id": "documents", "concurrency_limit": 4}
    doc_out = ["status", "table", "remove_choice", "files", "confirm_row"]
    fn, outputs = bind(partial(library_tab.upload, bases, settings.web_temp_dir), doc_out, c)
    c.upload_button.click(fn, [c.files, c.conversation, c.lang], outputs, api_name="upload", **doc_args)
    fn, outputs = bind(partial(library_tab.ask_remove, bases), ["status", "confirm_text", "confirm_row"], c)
    c.remove_button.click(
        fn,
        [c.remove_choice, c.conversation, c.lang],
        outputs,
        api_name="ask_remove",
        api_visibility="private",
        queue=False,
    )
    fn, outputs = bind(library_tab.cancel_remove, ["confirm_row"], c)
    c.cancel_button.click(fn, None, outputs, api_name="cancel_remove", api_visibility="private", queue=False)
    # The page removes only after "Yes"; an API client removes at once.
    fn, outputs = bind(
        partial(library_tab.remove, bases, access), ["status", "table", "remove_choice", "confirm_row"], c
    )
    c.confirm_button.click(
        fn, [c.remove_choice, c.conversation, c.lang], outputs, api_name="remove_document", **doc_args
    )
    fn, outputs = bind(partial(library_tab.view, bases), ["table", "remove_choice"], c)
    c.tab_docs.select(
        fn, [c.conversation, c.lang], outputs, api_name="documents_view", api_visibility="private"
    )

    def list_documents() -> list[dict[str, Any]]:
        """Every document in the default index: id, title, languages, passages, file, date, size, removable."""
        rows = bases.library(settings.kb).documents()
        return [dict(r.__dict__, languages=list(r.languages)) for r in rows]

    gr.api(guard(list_documents), api_name="documents")


def diagnosis_tab(advisor: Any, lang: str, switch: gr.Radio) -> None:
    """The 诊断 / Diagnose tab, on every page."""
    from . import assess_tab

    assess_tab.build(advisor, switch, lang)

"""The web page's wiring: layout (layout.py) + handlers (chat.py, library_tab.py), bound by updates.bind.

Every event has an explicit api_name. Questions and document changes run under separate concurrency
groups, so a long upload never holds up anyone's question; document changes queue in the library, which
tells each waiting upload its place.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from ..config import Settings
from ..documents import DocumentLibrary
from ..feedback import FeedbackStore, RateLimiter
from ..i18n import t
from . import chat, library_tab, render
from .layout import ExtraTab, build_layout, header_html, theme
from .updates import Updates, bind, guard

if TYPE_CHECKING:
    from ..core import Advisor

CSS_PATH = Path(__file__).with_name("style.css")


RELABELLED = [
    "header",
    "tab_chat",
    "tab_docs",
    "settings_line",
    "box",
    "send",
    "new_chat",
    "examples_label",
    "sources",
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


def relabel_page(
    library: DocumentLibrary, settings: Settings, conversation: chat.Conversation, lang: str
) -> Updates:
    """The whole page in the new interface language; what was said in the conversation stays as it was."""
    return {
        "header": header_html(lang),
        "tab_chat": gr.update(label=t(lang, "tab_chat")),
        "tab_docs": gr.update(label=t(lang, "tab_docs")),
        "settings_line": render.settings_markdown(settings.llm_backend, settings.top_k, lang),
        **chat.relabel(conversation, lang),
        **library_tab.relabel(library, lang, settings.max_upload_mb, settings.upload_max_passages),
    }


def build_app(
    advisor: Advisor,
    library: DocumentLibrary,
    feedback: FeedbackStore,
    extra_tabs: Sequence[ExtraTab] = (),
) -> gr.Blocks:
    """The page, its events and its API endpoints (/ask, /upload, /documents, /remove_document, /feedback)."""
    settings = advisor.settings
    limiter = RateLimiter(settings.feedback_per_minute)
    temp_dir = settings.web_temp_dir
    with gr.Blocks(
        title="advisor — 产业战略顾问 / Industrial Strategy Advisor", delete_cache=(600, 600)
    ) as demo:
        c = build_layout(settings, "zh", (partial(diagnosis_tab, advisor), *extra_tabs))
        chat_out = ["box", "chatbot", "conversation", "sources"]
        ask_args: dict[str, Any] = {"concurrency_id": "chat", "concurrency_limit": settings.web_concurrency}

        fn, outputs = bind(partial(chat.ask, advisor), chat_out, c)
        c.box.submit(fn, [c.box, c.conversation, c.lang], outputs, api_name="ask", **ask_args)
        c.send.click(
            fn,
            [c.box, c.conversation, c.lang],
            outputs,
            api_name="ask_button",
            api_visibility="undocumented",
            **ask_args,
        )
        fn, outputs = bind(partial(chat.ask_example, advisor), chat_out, c)
        for number, button in enumerate(c.examples):
            button.click(
                fn,
                [button, c.conversation, c.lang],
                outputs,
                api_name=f"ask_example_{number}",
                api_visibility="private",
                **ask_args,
            )
        fn, outputs = bind(chat.new_chat, chat_out, c)
        c.new_chat.click(fn, c.lang, outputs, api_name="new_chat", api_visibility="private")
        c.chatbot.clear(fn, c.lang, outputs, api_name="clear", api_visibility="private")  # the trash icon
        fn, outputs = bind(chat.show_sources, ["sources"], c)
        c.chatbot.select(
            fn, [c.conversation, c.lang], outputs, api_name="show_sources", api_visibility="private"
        )
        fn, outputs = bind(partial(chat.rate, feedback, limiter), [], c)
        c.chatbot.like(fn, [c.conversation, c.lang], None, api_name="rate", api_visibility="private")

        def record_feedback(
            question: str, answer: str, rating: str, citations: str = "[]", request: gr.Request | None = None
        ) -> int:
            """Record a thumbs up ('up') or down ('down') on an answer; returns the feedback id."""
            return chat.feedback_api(feedback, limiter, question, answer, rating, citations, request)

        def list_documents() -> list[dict[str, Any]]:
            """Every document in the index: id, title, languages, passages, file, date, size, removable."""
            return [dict(r.__dict__, languages=list(r.languages)) for r in library.documents()]

        gr.api(guard(record_feedback), api_name="feedback")
        gr.api(guard(list_documents), api_name="documents")

        doc_args: dict[str, Any] = {"concurrency_id": "documents", "concurrency_limit": 4}
        doc_out = ["status", "table", "remove_choice", "files", "confirm_row"]

        fn, outputs = bind(partial(library_tab.upload, library, temp_dir), doc_out, c)
        c.upload_button.click(fn, [c.files, c.lang], outputs, api_name="upload", **doc_args)
        fn, outputs = bind(
            partial(library_tab.ask_remove, library), ["status", "confirm_text", "confirm_row"], c
        )
        c.remove_button.click(
            fn,
            [c.remove_choice, c.lang],
            outputs,
            api_name="ask_remove",
            api_visibility="private",
            queue=False,
        )
        fn, outputs = bind(library_tab.cancel_remove, ["confirm_row"], c)
        c.cancel_button.click(
            fn, None, outputs, api_name="cancel_remove", api_visibility="private", queue=False
        )
        # The page removes only after "Yes"; an API client removes at once.
        fn, outputs = bind(
            partial(library_tab.remove, library), ["status", "table", "remove_choice", "confirm_row"], c
        )
        c.confirm_button.click(fn, [c.remove_choice, c.lang], outputs, api_name="remove_document", **doc_args)
        fn, outputs = bind(partial(library_tab.view, library), ["table", "remove_choice"], c)
        c.tab_docs.select(fn, c.lang, outputs, api_name="documents_view", api_visibility="private")

        fn, outputs = bind(partial(relabel_page, library, settings), RELABELLED, c)
        c.lang.change(fn, [c.conversation, c.lang], outputs, api_name="relabel", api_visibility="private")
        fn, outputs = bind(chat.detect_language, ["lang"], c)
        demo.load(fn, None, outputs, api_name="detect_language", api_visibility="private")
    return demo


def prepare_temp_dir(settings: Settings) -> Path:
    """The folder Gradio receives uploads in: under HOME, owner-only, emptied of any earlier run's files."""
    temp = settings.web_temp_dir
    if temp.exists():
        shutil.rmtree(temp)
    temp.mkdir(parents=True)
    os.chmod(temp, 0o700)
    os.environ["GRADIO_TEMP_DIR"] = str(temp)  # read by Gradio when the Blocks and the server are built
    return temp


def diagnosis_tab(advisor: Advisor, lang: str, switch: gr.Radio) -> None:
    """The 诊断 / Diagnose tab, on every page."""
    from . import assess_tab

    assess_tab.build(advisor, switch, lang)


def create(
    settings: Settings, advisor: Advisor | None = None, extra_tabs: Sequence[ExtraTab] = ()
) -> gr.Blocks:
    """Build (if needed) the index, warm the models and return the queued Blocks, ready to launch."""
    from ..core import Advisor

    prepare_temp_dir(settings)
    advisor = advisor or Advisor(settings)
    advisor.ensure_index()
    advisor.warm_up()
    demo = build_app(advisor, DocumentLibrary(advisor), FeedbackStore(settings.feedback_path), extra_tabs)
    demo.queue(max_size=settings.web_queue_size, default_concurrency_limit=settings.web_concurrency)
    return demo


def launch(demo: gr.Blocks, settings: Settings, host: str, port: int, *, block: bool = True) -> Any:
    """Start the server (127.0.0.1 by default); analytics off is set by the caller's environment.

    show_error stays off: only gr.Error messages, which the handlers write for people, reach a client.
    """
    return demo.launch(
        server_name=host,
        server_port=port,
        theme=theme(),
        css=CSS_PATH.read_text(encoding="utf-8"),
        max_file_size=f"{settings.max_upload_mb}mb",
        footer_links=["api"],
        show_error=False,
        ssr_mode=False,
        mcp_server=False,
        prevent_thread_lock=not block,
        quiet=not block,
    )

"""The page's layout in one place: `build_layout` creates every component once and returns them by name.

Chat on the left (saved conversations and the knowledge base above it; suggestions, Stop and export under
it), sources on the right — or the citation reader, when a [n] was clicked — stacked on a phone; a Documents
tab; the Inspect tab; a language switch and who is signed in. More tabs (e.g. a diagnosis tab) are added by
passing builders in `extra_tabs`: each is called inside the tab bar, after the Inspect tab, and creates its
own `gr.Tab`.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..answer.roles import PROFILES
from ..config import Settings
from ..i18n import EXAMPLES, LANG_CHOICES, t
from . import render
from .chat import FEEDBACK, SUGGESTIONS, Conversation
from .reader import BRIDGE_JS, SCROLL_JS

FONTS = [
    "system-ui",
    "-apple-system",
    "Segoe UI",
    "PingFang SC",
    "Microsoft YaHei",
    "Noto Sans CJK SC",
    "sans-serif",
]
MONO = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]
# Builds one more gr.Tab, given the first interface language and the language switch (to follow it).
ExtraTab = Callable[[str, gr.Radio], None]


@dataclass(frozen=True)
class Components:
    """Every component a handler may read or update, by the name handlers use in their updates."""

    header: Any
    lang: Any
    user_line: Any
    kb_choice: Any
    profile: Any
    browser_id: Any
    tab_chat: Any
    tab_docs: Any
    conversation: Any
    history: Any
    chatbot: Any
    box: Any
    send: Any
    stop: Any
    suggest_row: Any
    suggest_label: Any
    suggest_0: Any
    suggest_1: Any
    suggest_2: Any
    examples_label: Any
    examples: tuple[Any, ...]
    settings_line: Any
    new_chat: Any
    export_button: Any
    export_md: Any
    export_docx: Any
    export_pdf: Any
    sources: Any
    cite_bridge: Any
    reader_box: Any
    reader: Any
    reader_at: Any
    reader_prev: Any
    reader_next: Any
    reader_close: Any
    tab_inspect: Any
    inspect_hint: Any
    inspect_box: Any
    inspect_follow: Any
    inspect_button: Any
    inspect_out: Any
    upload_hint: Any
    files: Any
    upload_button: Any
    status: Any
    remove_choice: Any
    remove_button: Any
    confirm_row: Any
    confirm_text: Any
    confirm_button: Any
    cancel_button: Any
    docs_label: Any
    table: Any


def theme() -> gr.themes.Base:
    """A calm theme with system fonts only (a Google font would make the browser call out)."""
    return gr.themes.Soft(
        primary_hue="teal", secondary_hue="slate", neutral_hue="slate", font=FONTS, font_mono=MONO
    )


def header_html(lang: str) -> str:
    return (
        f'<div class="advisor-header"><div class="advisor-logo">策</div><div class="advisor-titles">'
        f"<h1>{html.escape(t(lang, 'title'))}</h1><p>{html.escape(t(lang, 'tagline'))}</p></div></div>"
    )


def build_layout(
    settings: Settings,
    lang: str = "zh",
    extra_tabs: Sequence[ExtraTab] = (),
    bases: Sequence[tuple[str, str]] = (),
    secret: str | None = None,
) -> Components:
    """Create the page's components (inside an open gr.Blocks) and return them by name.

    `bases` are the knowledge bases to choose from as (label, name); the chooser shows when there are two or
    more. `secret` encrypts the browser's id in its local storage (stable across restarts when given).
    """
    parts: dict[str, Any] = {
        "conversation": gr.State(Conversation(kb=settings.kb)),
        "reader_at": gr.State(None),
        "browser_id": gr.BrowserState(None, storage_key="advisor-browser", secret=secret),
    }
    with gr.Row(elem_id="topbar", equal_height=True):
        parts["header"] = gr.HTML(header_html(lang), elem_id="advisor-header")
        with gr.Column(scale=0, min_width=180, elem_id="lang-col"):
            parts["lang"] = gr.Radio(
                choices=LANG_CHOICES, value=lang, show_label=False, elem_id="lang", container=False
            )
            parts["user_line"] = gr.Markdown(elem_id="user-line")
    with gr.Tabs(elem_id="tabs"):
        with gr.Tab(t(lang, "tab_chat"), id="chat", elem_id="tab-chat") as parts["tab_chat"]:
            _chat_tab(parts, settings, lang, bases)
        with (
            gr.Tab(t(lang, "tab_docs"), id="docs", elem_id="tab-docs") as parts["tab_docs"],
            gr.Row(equal_height=False),
        ):
            _docs_tab(parts, settings, lang)
        with gr.Tab(t(lang, "tab_inspect"), id="inspect", elem_id="tab-inspect") as parts["tab_inspect"]:
            _inspect_tab(parts, lang)
        for build_tab in extra_tabs:
            build_tab(lang, parts["lang"])
    return Components(**parts)


def profile_choices(lang: str) -> list[tuple[str, str]]:
    """Who is asking: the answer puts that client's passages and actions first (CLI: `--as`)."""
    return [(t(lang, "profile_none"), "")] + [(t(lang, f"profile_{p}"), p) for p in PROFILES]


def _chat_tab(parts: dict[str, Any], settings: Settings, lang: str, bases: Sequence[tuple[str, str]]) -> None:
    """Chat on the left (history, chatbot, box, suggestions, examples), sources or the reader on the right."""
    with gr.Row(equal_height=False, elem_id="chat-row"):
        with gr.Column(scale=3, min_width=300, elem_id="chat-col"):
            with gr.Row(elem_id="chat-tools", equal_height=True):
                parts["kb_choice"] = gr.Dropdown(
                    choices=list(bases),
                    value=settings.kb,
                    label=t(lang, "kb_label"),
                    visible=len(bases) > 1,
                    elem_id="kb-choice",
                    scale=1,
                )
                parts["profile"] = gr.Dropdown(
                    choices=profile_choices(lang),
                    value="",
                    label=t(lang, "profile_label"),
                    elem_id="profile",
                    scale=1,
                )
                parts["history"] = gr.Dropdown(
                    choices=[], label=t(lang, "history_choice"), elem_id="history", scale=2
                )
            parts["chatbot"] = gr.Chatbot(
                elem_id="chat",
                show_label=False,
                height="min(520px, 62vh)",
                feedback_options=FEEDBACK,
                buttons=["copy"],
                layout="bubble",
                render_markdown=False,
                latex_delimiters=[],
                editable="user",
            )
            with gr.Row(visible=False, elem_id="suggestions") as parts["suggest_row"]:
                parts["suggest_label"] = gr.Markdown(f"**{t(lang, 'suggested')}**", elem_id="suggest-label")
                for i in range(SUGGESTIONS):
                    parts[f"suggest_{i}"] = gr.Button(
                        "",
                        size="sm",
                        variant="secondary",
                        elem_classes=["suggestion"],
                        elem_id=f"suggest-{i}",
                    )
            with gr.Row(elem_id="ask-row", equal_height=True):
                parts["box"] = gr.Textbox(
                    show_label=False,
                    placeholder=t(lang, "placeholder"),
                    elem_id="question",
                    scale=8,
                    lines=1,
                    max_lines=6,
                    autofocus=True,
                )
                parts["send"] = gr.Button(
                    t(lang, "send"), variant="primary", elem_id="send", scale=1, min_width=72
                )
                parts["stop"] = gr.Button(
                    t(lang, "stop"), variant="stop", elem_id="stop", scale=0, min_width=64
                )
            with gr.Row(elem_id="settings-row", equal_height=True):
                parts["settings_line"] = gr.Markdown(
                    render.settings_markdown(settings.llm_backend, settings.top_k, lang), elem_id="settings"
                )
                parts["export_button"] = gr.Button(
                    t(lang, "export"), size="sm", scale=0, min_width=100, elem_id="export"
                )
                parts["new_chat"] = gr.Button(
                    t(lang, "new_chat"), size="sm", scale=0, min_width=100, elem_id="new-chat"
                )
            with gr.Row(elem_id="export-row"):
                for fmt, label in (("md", "Markdown"), ("docx", "Word"), ("pdf", "PDF")):
                    parts[f"export_{fmt}"] = gr.DownloadButton(
                        label, visible=False, size="sm", elem_id=f"export-{fmt}"
                    )
            parts["examples_label"] = gr.Markdown(f"**{t(lang, 'examples')}**", elem_id="examples-label")
            with gr.Row(elem_id="examples"):
                parts["examples"] = tuple(
                    gr.Button(q, size="sm", variant="secondary", elem_classes=["example"])
                    for q in [*EXAMPLES["zh"][:2], *EXAMPLES["en"][:2]]
                )
        with gr.Column(scale=2, min_width=300, elem_id="sources-col"):
            parts["sources"] = gr.HTML(render.sources_html(None, lang), elem_id="sources")
            with gr.Column(visible=False, elem_id="reader-box") as parts["reader_box"]:
                with gr.Row(elem_id="reader-nav", equal_height=True):
                    parts["reader_prev"] = gr.Button(t(lang, "reader_prev"), size="sm", elem_id="reader-prev")
                    parts["reader_next"] = gr.Button(t(lang, "reader_next"), size="sm", elem_id="reader-next")
                    parts["reader_close"] = gr.Button(
                        t(lang, "reader_close"), size="sm", elem_id="reader-close"
                    )
                parts["reader"] = gr.HTML("", elem_id="reader", js_on_load=SCROLL_JS)
            parts["cite_bridge"] = gr.HTML("", visible="hidden", elem_id="cite-bridge", js_on_load=BRIDGE_JS)


def _docs_tab(parts: dict[str, Any], settings: Settings, lang: str) -> None:
    """Upload and remove documents on the left, the table of documents on the right."""
    with gr.Column(scale=2, min_width=300):
        parts["upload_hint"] = gr.Markdown(
            t(lang, "upload_hint", mb=settings.max_upload_mb, passages=settings.upload_max_passages)
        )
        parts["files"] = gr.File(
            label=t(lang, "upload_label"),
            file_count="multiple",
            type="filepath",  # no file_types: Gradio would refuse in English and keep the file
            elem_id="upload",
        )
        parts["upload_button"] = gr.Button(t(lang, "upload_button"), variant="primary", elem_id="upload-btn")
        parts["status"] = gr.Markdown(elem_id="doc-status")
        parts["remove_choice"] = gr.Dropdown(
            label=t(lang, "remove_label"), choices=[], allow_custom_value=True, elem_id="remove-choice"
        )
        parts["remove_button"] = gr.Button(
            t(lang, "remove_button"), variant="secondary", size="sm", elem_id="remove-btn"
        )
        with gr.Row(visible=False, elem_id="confirm-remove") as parts["confirm_row"]:
            parts["confirm_text"] = gr.Markdown(elem_id="confirm-text")
            parts["confirm_button"] = gr.Button(
                t(lang, "confirm_yes"), variant="stop", size="sm", elem_id="confirm-btn"
            )
            parts["cancel_button"] = gr.Button(t(lang, "cancel"), size="sm", elem_id="cancel-btn")
    with gr.Column(scale=3):
        parts["docs_label"] = gr.Markdown(f"**{t(lang, 'docs_list')}**")
        parts["table"] = gr.Dataframe(
            headers=render.document_headers(lang), interactive=False, wrap=True, elem_id="documents"
        )


def _inspect_tab(parts: dict[str, Any], lang: str) -> None:
    """The retrieval inspector: a question (optionally as a follow-up), and everything retrieval did with it."""
    parts["inspect_hint"] = gr.Markdown(t(lang, "inspect_hint"), elem_id="inspect-hint")
    with gr.Row(equal_height=True):
        parts["inspect_box"] = gr.Textbox(label=t(lang, "inspect_label"), elem_id="inspect-question", scale=6)
        parts["inspect_button"] = gr.Button(
            t(lang, "inspect_button"), variant="primary", elem_id="inspect-btn", scale=1
        )
    parts["inspect_follow"] = gr.Checkbox(
        label=t(lang, "inspect_follow"), value=False, elem_id="inspect-follow"
    )
    parts["inspect_out"] = gr.HTML("", elem_id="inspect-out")

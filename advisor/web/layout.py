"""The page's layout in one place: `build_layout` creates every component once and returns them by name.

Chat on the left, sources on the right (stacked on a phone); a Documents tab; a language switch. More tabs
(e.g. a diagnosis tab) are added by passing builders in `extra_tabs`: each is called inside the tab bar,
after the Documents tab, and creates its own `gr.Tab`.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..config import Settings
from ..i18n import EXAMPLES, LANG_CHOICES, t
from . import render
from .chat import FEEDBACK, Conversation

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
    tab_chat: Any
    tab_docs: Any
    conversation: Any
    chatbot: Any
    box: Any
    send: Any
    examples_label: Any
    examples: tuple[Any, ...]
    settings_line: Any
    new_chat: Any
    sources: Any
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


def build_layout(settings: Settings, lang: str = "zh", extra_tabs: Sequence[ExtraTab] = ()) -> Components:
    """Create the page's components (inside an open gr.Blocks) and return them by name."""
    conversation = gr.State(Conversation())
    with gr.Row(elem_id="topbar", equal_height=True):
        header = gr.HTML(header_html(lang), elem_id="advisor-header")
        with gr.Column(scale=0, min_width=180, elem_id="lang-col"):
            lang_radio = gr.Radio(
                choices=LANG_CHOICES, value=lang, show_label=False, elem_id="lang", container=False
            )
    with gr.Tabs(elem_id="tabs"):
        with (
            gr.Tab(t(lang, "tab_chat"), id="chat", elem_id="tab-chat") as tab_chat,
            gr.Row(equal_height=False, elem_id="chat-row"),
        ):
            with gr.Column(scale=3, min_width=300, elem_id="chat-col"):
                chatbot = gr.Chatbot(
                    elem_id="chat",
                    show_label=False,
                    height="min(520px, 62vh)",
                    feedback_options=FEEDBACK,
                    buttons=["copy"],
                    layout="bubble",
                    render_markdown=False,
                    latex_delimiters=[],
                )
                with gr.Row(elem_id="ask-row", equal_height=True):
                    box = gr.Textbox(
                        show_label=False,
                        placeholder=t(lang, "placeholder"),
                        elem_id="question",
                        scale=8,
                        lines=1,
                        max_lines=6,
                        autofocus=True,
                    )
                    send = gr.Button(
                        t(lang, "send"), variant="primary", elem_id="send", scale=1, min_width=72
                    )
                with gr.Row(elem_id="settings-row", equal_height=True):
                    settings_line = gr.Markdown(
                        render.settings_markdown(settings.llm_backend, settings.top_k, lang),
                        elem_id="settings",
                    )
                    new_chat = gr.Button(
                        t(lang, "new_chat"), size="sm", scale=0, min_width=100, elem_id="new-chat"
                    )
                examples_label = gr.Markdown(f"**{t(lang, 'examples')}**", elem_id="examples-label")
                with gr.Row(elem_id="examples"):
                    examples = tuple(
                        gr.Button(q, size="sm", variant="secondary", elem_classes=["example"])
                        for q in [*EXAMPLES["zh"][:2], *EXAMPLES["en"][:2]]
                    )
            with gr.Column(scale=2, min_width=300, elem_id="sources-col"):
                sources = gr.HTML(render.sources_html(None, lang), elem_id="sources")
        with (
            gr.Tab(t(lang, "tab_docs"), id="docs", elem_id="tab-docs") as tab_docs,
            gr.Row(equal_height=False),
        ):
            with gr.Column(scale=2, min_width=300):
                upload_hint = gr.Markdown(
                    t(
                        lang,
                        "upload_hint",
                        mb=settings.max_upload_mb,
                        passages=settings.upload_max_passages,
                    )
                )
                files = gr.File(
                    label=t(lang, "upload_label"),
                    file_count="multiple",
                    type="filepath",  # no file_types: Gradio would refuse in English and keep the file
                    elem_id="upload",
                )
                upload_button = gr.Button(t(lang, "upload_button"), variant="primary", elem_id="upload-btn")
                status = gr.Markdown(elem_id="doc-status")
                remove_choice = gr.Dropdown(
                    label=t(lang, "remove_label"),
                    choices=[],
                    allow_custom_value=True,
                    elem_id="remove-choice",
                )
                remove_button = gr.Button(
                    t(lang, "remove_button"), variant="secondary", size="sm", elem_id="remove-btn"
                )
                with gr.Row(visible=False, elem_id="confirm-remove") as confirm_row:
                    confirm_text = gr.Markdown(elem_id="confirm-text")
                    confirm_button = gr.Button(
                        t(lang, "confirm_yes"), variant="stop", size="sm", elem_id="confirm-btn"
                    )
                    cancel_button = gr.Button(t(lang, "cancel"), size="sm", elem_id="cancel-btn")
            with gr.Column(scale=3):
                docs_label = gr.Markdown(f"**{t(lang, 'docs_list')}**")
                table = gr.Dataframe(
                    headers=render.document_headers(lang),
                    interactive=False,
                    wrap=True,
                    elem_id="documents",
                )
        for build_tab in extra_tabs:
            build_tab(lang, lang_radio)
    return Components(
        header=header,
        lang=lang_radio,
        tab_chat=tab_chat,
        tab_docs=tab_docs,
        conversation=conversation,
        chatbot=chatbot,
        box=box,
        send=send,
        examples_label=examples_label,
        examples=examples,
        settings_line=settings_line,
        new_chat=new_chat,
        sources=sources,
        upload_hint=upload_hint,
        files=files,
        upload_button=upload_button,
        status=status,
        remove_choice=remove_choice,
        remove_button=remove_button,
        confirm_row=confirm_row,
        confirm_text=confirm_text,
        confirm_button=confirm_button,
        cancel_button=cancel_button,
        docs_label=docs_label,
        table=table,
    )

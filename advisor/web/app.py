"""The Gradio Blocks of the web page: layout and event wiring only; answers come from advisor.core.

Every event has an explicit api_name. Questions and document changes run under separate concurrency
groups, so a long upload never holds up anyone's question.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from ..answer.question import QuestionError
from ..documents import ALLOWED_SUFFIXES, DocumentLibrary, UploadError
from ..feedback import FeedbackStore
from ..schema import Answer
from . import assess_tab, render
from .i18n import EXAMPLES, LANG_CHOICES, browser_lang, t

if TYPE_CHECKING:
    from ..config import Settings
    from ..core import Advisor

CSS_PATH = Path(__file__).with_name("style.css")
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

PROGRESS = gr.Progress()  # Gradio recognises a progress parameter by this default value
Messages = list[dict[str, Any]]
AnswerMap = dict[int, Answer]  # chat message index → the Answer shown there


def theme() -> gr.themes.Base:
    """A calm theme with system fonts only (a Google font would make the browser call out)."""
    return gr.themes.Soft(
        primary_hue="teal", secondary_hue="slate", neutral_hue="slate", font=FONTS, font_mono=MONO
    )


def header_html(lang: str) -> str:
    return (
        f'<div class="advisor-header"><div class="advisor-logo">策</div><div>'
        f"<h1>{html.escape(t(lang, 'title'))}</h1><p>{html.escape(t(lang, 'tagline'))}</p></div></div>"
    )


def build_app(advisor: Advisor, library: DocumentLibrary, feedback: FeedbackStore) -> gr.Blocks:
    """The page: chat on the left, sources on the right; a documents tab; a language switch."""
    settings = advisor.settings

    # --- handlers (thin: each calls the core, the library or the feedback store) -------------------
    def respond(
        message: str, messages: Messages, turns: list[list[str]], answers: AnswerMap, lang: str
    ) -> Iterator[tuple[Any, ...]]:
        question = (message or "").strip()
        if not question:
            yield gr.update(), messages, messages, turns, answers, gr.update()
            return
        messages = [
            *messages,
            {"role": "user", "content": render.escape_markdown(question)},
            {"role": "assistant", "content": "▍"},
        ]
        yield "", messages, messages, turns, answers, gr.update()
        text = ""
        stream = advisor.stream(question, history=[(q, a) for q, a in turns])
        try:
            for delta in stream:
                text += delta
                messages[-1] = {"role": "assistant", "content": render.partial_markdown(text)}
                yield "", messages, messages, turns, answers, gr.update()
            answer = stream.answer
        except QuestionError as exc:
            messages[-1] = {
                "role": "assistant",
                "content": f'<div class="advisor-notice">{html.escape(t(lang, "error", reason=str(exc)))}</div>',
            }
            yield "", messages, messages, turns, answers, gr.update()
            return
        messages[-1] = {"role": "assistant", "content": render.answer_markdown(answer, lang)}
        answers = {**answers, len(messages) - 1: answer}
        turns = [*turns, [question, answer.text]]
        yield "", messages, messages, turns, answers, render.sources_html(answer, lang)

    def show_sources(answers: AnswerMap, lang: str, event: gr.SelectData) -> str:
        index = event.index if isinstance(event.index, int) else event.index[0]
        answer = answers.get(index)
        return render.sources_html(answer, lang) if answer is not None else gr.skip()

    def clear(lang: str) -> tuple[Any, ...]:
        return [], [], [], {}, render.sources_html(None, lang)

    def rate(answers: AnswerMap, lang: str, event: gr.LikeData) -> None:
        index = event.index if isinstance(event.index, int) else event.index[0]
        answer = answers.get(index)
        if answer is None or event.liked is None or event.liked == "":
            return
        rating = "up" if event.liked is True or event.liked == "Like" else "down"
        feedback.record(
            rating,
            answer.question,
            answer.text,
            citations=render.citations_payload(answer),
            lang=answer.lang,
            backend=answer.backend,
            refused=answer.refused,
        )
        gr.Info(t(lang, "thanks"))

    def feedback_api(question: str, answer: str, rating: str, citations: str = "[]") -> int:
        """Record a thumbs up ('up') or down ('down') on an answer; returns the feedback id."""
        import json

        try:
            cited = json.loads(citations or "[]")
            return feedback.record(
                rating, question, answer, citations=cited if isinstance(cited, list) else []
            )
        except (ValueError, TypeError) as exc:
            raise gr.Error(str(exc)) from exc

    def documents_view(lang: str) -> tuple[Any, Any]:
        rows = library.documents()
        table = gr.Dataframe(value=render.document_rows(rows, lang), headers=render.document_headers(lang))
        choices = [(r.title, r.doc_id) for r in rows if r.removable]
        return table, gr.Dropdown(choices=choices, value=None, label=t(lang, "remove_label"))

    def upload(files: list[str] | str | None, lang: str, progress: Any = PROGRESS) -> tuple[Any, ...]:
        paths = [files] if isinstance(files, str) else list(files or [])
        if not paths:
            return (t(lang, "no_file"), *documents_view(lang), gr.update())
        lines = []
        for number, path in enumerate(paths, 1):
            prefix = f"({number}/{len(paths)}) " if len(paths) > 1 else ""

            def stage(name: str, prefix: str = prefix) -> None:
                progress(0, desc=prefix + t(lang, f"stage_{name}"))

            def bar(total: int, label: str, prefix: str = prefix) -> Any:
                done = [0]

                def advance(n: int) -> None:
                    done[0] += n
                    progress((done[0], max(total, 1)), desc=f"{prefix}{t(lang, 'stage_indexing')} · {label}")

                return advance

            try:
                result = library.add(Path(path), Path(path).name, progress=bar, on_stage=stage)
                lines.append("✓ " + t(lang, "uploaded", title=result.title, chunks=result.chunks))
            except UploadError as exc:
                lines.append("✗ " + t(lang, "upload_failed", reason=str(exc)))
        return ("\n\n".join(render.escape_markdown(line) for line in lines), *documents_view(lang), None)

    def remove(doc_id: str | None, lang: str) -> tuple[Any, ...]:
        if not doc_id:
            return (t(lang, "no_file"), *documents_view(lang))
        try:
            title = library.remove(doc_id)
            status = "✓ " + t(lang, "removed", title=title)
        except UploadError as exc:
            status = "✗ " + t(lang, "remove_failed", reason=str(exc))
        return (render.escape_markdown(status), *documents_view(lang))

    def list_documents() -> list[dict[str, Any]]:
        """Every document in the index: id, title, languages, passages, original file, removable."""
        return [dict(r.__dict__, languages=list(r.languages)) for r in library.documents()]

    def relabel(lang: str, answers: AnswerMap, messages: Messages) -> tuple[Any, ...]:
        last = answers.get(len(messages) - 1) if messages else None
        return (
            header_html(lang),
            gr.Tab(label=t(lang, "tab_chat")),
            gr.Tab(label=t(lang, "tab_docs")),
            gr.Textbox(placeholder=t(lang, "placeholder")),
            gr.Button(value=t(lang, "send")),
            gr.Button(value=t(lang, "clear")),
            f"**{t(lang, 'examples')}**",
            render.settings_markdown(settings.llm_backend, settings.top_k, lang),
            render.sources_html(last, lang),
            t(lang, "upload_hint", mb=settings.max_upload_mb),
            gr.File(label=t(lang, "upload_label")),
            gr.Button(value=t(lang, "upload_button")),
            gr.Button(value=t(lang, "remove_button")),
            f"**{t(lang, 'docs_list')}**",
            *documents_view(lang),
        )

    def on_load(request: gr.Request) -> str:
        return browser_lang(request.headers.get("accept-language") if request else None)

    # --- layout --------------------------------------------------------------------------------------
    lang0 = "zh"
    with gr.Blocks(title="advisor — 产业战略顾问 / Industrial Strategy Advisor") as demo:
        messages_state = gr.State([])
        turns_state = gr.State([])
        answers_state = gr.State({})
        with gr.Row(elem_id="topbar", equal_height=True):
            header = gr.HTML(header_html(lang0), elem_id="advisor-header")
            with gr.Column(scale=0, min_width=230):
                lang = gr.Radio(
                    choices=LANG_CHOICES, value=lang0, show_label=False, elem_id="lang", container=False
                )
        with gr.Tabs(elem_id="tabs"):
            with (
                gr.Tab(t(lang0, "tab_chat"), id="chat", elem_id="tab-chat") as tab_chat,
                gr.Row(equal_height=False),
            ):
                with gr.Column(scale=3, min_width=420):
                    chatbot = gr.Chatbot(
                        elem_id="chat",
                        show_label=False,
                        height=520,
                        feedback_options=("Like", "Dislike"),
                        buttons=["copy"],
                        layout="bubble",
                        latex_delimiters=[],
                    )
                    with gr.Row(elem_id="ask-row", equal_height=True):
                        box = gr.Textbox(
                            show_label=False,
                            placeholder=t(lang0, "placeholder"),
                            elem_id="question",
                            scale=8,
                            lines=1,
                            max_lines=6,
                            autofocus=True,
                        )
                        send = gr.Button(
                            t(lang0, "send"), variant="primary", elem_id="send", scale=1, min_width=90
                        )
                    examples_md = gr.Markdown(f"**{t(lang0, 'examples')}**", elem_id="examples-label")
                    with gr.Row(elem_id="examples"):
                        example_buttons = [
                            gr.Button(q, size="sm", variant="secondary", elem_classes=["example"])
                            for q in [*EXAMPLES["zh"][:2], *EXAMPLES["en"][:2]]
                        ]
                    with gr.Row(elem_id="settings-row", equal_height=True):
                        settings_md = gr.Markdown(
                            render.settings_markdown(settings.llm_backend, settings.top_k, lang0),
                            elem_id="settings",
                        )
                        new_chat = gr.Button(
                            t(lang0, "clear"), size="sm", scale=0, min_width=100, elem_id="clear"
                        )
                with gr.Column(scale=2, min_width=320, elem_id="sources-col"):
                    sources = gr.HTML(render.sources_html(None, lang0), elem_id="sources")
            with (
                gr.Tab(t(lang0, "tab_docs"), id="docs", elem_id="tab-docs") as tab_docs,
                gr.Row(equal_height=False),
            ):
                with gr.Column(scale=2, min_width=320):
                    upload_hint = gr.Markdown(t(lang0, "upload_hint", mb=settings.max_upload_mb))
                    files = gr.File(
                        label=t(lang0, "upload_label"),
                        file_count="multiple",
                        file_types=list(ALLOWED_SUFFIXES),
                        type="filepath",
                        elem_id="upload",
                    )
                    upload_btn = gr.Button(t(lang0, "upload_button"), variant="primary", elem_id="upload-btn")
                    status = gr.Markdown(elem_id="doc-status")
                    remove_dd = gr.Dropdown(
                        label=t(lang0, "remove_label"),
                        choices=[],
                        allow_custom_value=True,
                        elem_id="remove-choice",
                    )
                    remove_btn = gr.Button(
                        t(lang0, "remove_button"), variant="stop", size="sm", elem_id="remove-btn"
                    )
                with gr.Column(scale=3):
                    docs_md = gr.Markdown(f"**{t(lang0, 'docs_list')}**")
                    table = gr.Dataframe(
                        headers=render.document_headers(lang0),
                        interactive=False,
                        wrap=True,
                        column_widths=["36%", "10%", "10%", "28%", "16%"],
                        elem_id="documents",
                    )
            assess_tab.build(advisor, lang, lang0)

        # --- events --------------------------------------------------------------------------------
        chat_outputs = [box, chatbot, messages_state, turns_state, answers_state, sources]
        chat_inputs = [box, messages_state, turns_state, answers_state, lang]
        ask_args: dict[str, Any] = {"concurrency_id": "chat", "concurrency_limit": settings.web_concurrency}
        box.submit(respond, chat_inputs, chat_outputs, api_name="ask", **ask_args)
        send.click(
            respond,
            chat_inputs,
            chat_outputs,
            api_name="ask_button",
            api_visibility="undocumented",
            **ask_args,
        )
        for number, button in enumerate(example_buttons):
            button.click(
                lambda q: q, button, box, queue=False, api_name=f"example_{number}", api_visibility="private"
            ).then(
                respond,
                chat_inputs,
                chat_outputs,
                api_name=f"ask_example_{number}",
                api_visibility="private",
                **ask_args,
            )
        chatbot.select(
            show_sources, [answers_state, lang], sources, api_name="show_sources", api_visibility="private"
        )
        chatbot.like(rate, [answers_state, lang], None, api_name="rate", api_visibility="private")
        new_chat.click(
            clear,
            lang,
            [chatbot, messages_state, turns_state, answers_state, sources],
            api_name="clear",
            api_visibility="private",
        )
        gr.api(feedback_api, api_name="feedback")
        gr.api(list_documents, api_name="documents")

        doc_args: dict[str, Any] = {"concurrency_id": "documents", "concurrency_limit": 1}
        upload_btn.click(
            upload, [files, lang], [status, table, remove_dd, files], api_name="upload", **doc_args
        )
        remove_btn.click(
            remove, [remove_dd, lang], [status, table, remove_dd], api_name="remove_document", **doc_args
        )
        tab_docs.select(
            documents_view, lang, [table, remove_dd], api_name="documents_view", api_visibility="private"
        )

        lang.change(
            relabel,
            [lang, answers_state, messages_state],
            [
                header,
                tab_chat,
                tab_docs,
                box,
                send,
                new_chat,
                examples_md,
                settings_md,
                sources,
                upload_hint,
                files,
                upload_btn,
                remove_btn,
                docs_md,
                table,
                remove_dd,
            ],
            api_name="relabel",
            api_visibility="private",
        )
        demo.load(on_load, None, lang, api_name="detect_language", api_visibility="private")
    return demo


def create(settings: Settings, advisor: Advisor | None = None) -> gr.Blocks:
    """Build (if needed) the index, warm the models and return the queued Blocks, ready to launch."""
    from ..core import Advisor

    advisor = advisor or Advisor(settings)
    advisor.ensure_index()
    advisor.warm_up()
    demo = build_app(advisor, DocumentLibrary(advisor), FeedbackStore(settings.feedback_path))
    demo.queue(max_size=settings.web_queue_size, default_concurrency_limit=settings.web_concurrency)
    return demo


def launch(demo: gr.Blocks, settings: Settings, host: str, port: int, *, block: bool = True) -> Any:
    """Start the server (127.0.0.1 by default); analytics off is set by the caller's environment."""
    return demo.launch(
        server_name=host,
        server_port=port,
        theme=theme(),
        css=CSS_PATH.read_text(encoding="utf-8"),
        max_file_size=f"{settings.max_upload_mb}mb",
        footer_links=["api"],
        show_error=True,
        ssr_mode=False,
        mcp_server=False,
        prevent_thread_lock=not block,
        quiet=not block,
    )

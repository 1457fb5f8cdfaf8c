"""Turn an Answer into what the page shows: chat Markdown and the sources panel (HTML, every text escaped)."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from ..documents import DocumentRow
from ..schema import Answer, Passage
from .i18n import t

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-!|~>])")


def escape_markdown(text: str) -> str:
    """Document or user text as data: HTML-escaped and with Markdown syntax neutralised."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def _markers_to_html(escaped: str) -> str:
    """The escaped [n] markers become small citation badges."""
    return re.sub(r"\\\[(\d{1,2})\\\]", r'<sup class="cite">[\1]</sup>', escaped)


def answer_markdown(answer: Answer, ui_lang: str) -> str:
    """The chat bubble for a finished answer: notices, the text with [n] badges, or the refusal look."""
    parts = [f'<div class="advisor-notice">ⓘ {escape_markdown(n)}</div>' for n in answer.notices]
    body = escape_markdown(answer.text).replace("\n", "  \n")
    if answer.refused:
        parts.append(
            f'<div class="advisor-refusal"><strong>⚠ {t(ui_lang, "not_covered")}</strong><br>{body}</div>'
        )
    else:
        parts.append(_markers_to_html(body))
    return "\n\n".join(parts)


def partial_markdown(text: str, *, thinking: bool = False, ui_lang: str = "en") -> str:
    """A streamed, unfinished answer: the text so far and a cursor, or a "thinking…" mark while the model
    thinks (never what it thinks)."""
    body = _markers_to_html(escape_markdown(text).replace("\n", "  \n"))
    mark = f'<span class="advisor-thinking">{t(ui_lang, "thinking")}</span>' if thinking else "▍"
    return f"{body} {mark}" if body else mark


def _passage_html(passage: Passage, label: str, ui_lang: str, element_id: str, open_: bool) -> str:
    chunk = passage.chunk
    parallel = ""
    if passage.parallel_text:
        parallel = (
            f'<div class="src-parallel"><div class="src-sub">{t(ui_lang, "parallel")}</div>'
            f"<p>{html.escape(passage.parallel_text)}</p></div>"
        )
    return (
        f'<details class="src" id="{element_id}"{" open" if open_ else ""}>'
        f'<summary><span class="src-n">{html.escape(label)}</span>'
        f'<span class="src-title">{html.escape(chunk.title)}</span>'
        f'<span class="src-loc">{html.escape(chunk.location)}</span></summary>'
        f'<div class="src-body"><p class="src-text" lang="{chunk.lang}">{html.escape(chunk.text)}</p>{parallel}</div>'
        "</details>"
    )


def sources_html(answer: Answer | None, ui_lang: str) -> str:
    """The right-hand panel: cited passages (or related reading for a refusal), each one expandable."""
    if answer is None:
        return (
            f'<div class="sources sources-empty"><h3>{t(ui_lang, "sources")}</h3>'
            f'<p class="muted">{t(ui_lang, "sources_empty")}</p></div>'
        )
    if answer.refused:
        items = "".join(
            _passage_html(p, "·", ui_lang, f"related-{i}", False)
            for i, p in enumerate(answer.passages[:5], 1)
        )
        return (
            f'<div class="sources sources-refused"><h3>{t(ui_lang, "related")}</h3>'
            f'<p class="muted">{t(ui_lang, "related_note")}</p>{items}{_footer(answer, ui_lang)}</div>'
        )
    items = "".join(
        _passage_html(c.passage, str(c.n), ui_lang, f"src-{c.n}", False) for c in answer.citations
    )
    return (
        f'<div class="sources"><h3>{t(ui_lang, "sources")} <span class="count">{len(answer.citations)}</span></h3>'
        f"{items}{_footer(answer, ui_lang)}</div>"
    )


def _footer(answer: Answer, ui_lang: str) -> str:
    ms = answer.timings_ms.get("total", 0.0)
    return f'<p class="src-footer">{html.escape(t(ui_lang, "timing", backend=answer.backend, ms=ms))}</p>'


def citations_payload(answer: Answer) -> list[dict[str, object]]:
    """What feedback stores about the sources of an answer."""
    return [
        {
            "n": c.n,
            "doc_id": c.passage.chunk.doc_id,
            "location": c.passage.chunk.location,
            "text": c.passage.chunk.text,
        }
        for c in answer.citations
    ]


def document_rows(rows: Sequence[DocumentRow], ui_lang: str) -> list[list[object]]:
    """The documents table: title, languages, passages, original file, corpus or upload."""
    return [
        [
            r.title,
            "/".join(r.languages),
            r.chunks,
            r.source_file,
            t(ui_lang, "origin_upload" if r.removable else "origin_corpus"),
        ]
        for r in rows
    ]


def document_headers(ui_lang: str) -> list[str]:
    return [t(ui_lang, k) for k in ("col_title", "col_lang", "col_chunks", "col_file", "col_origin")]


def settings_markdown(backend: str, top_k: int, ui_lang: str) -> str:
    kind = (
        t(ui_lang, "backend_extractive")
        if backend == "extractive"
        else f"{t(ui_lang, 'backend_llm')} ({backend})"
    )
    return f"**{t(ui_lang, 'backend')}:** {html.escape(kind)} · **{t(ui_lang, 'top_k')}:** {top_k}"

"""What the page shows: the chat text of an answer, the sources panel (HTML, every text escaped), the table.

A chat message is plain text: what a reader sees is what the copy button copies and what a screen reader
reads ("…[1]…", then the sources beneath). The chatbot renders no Markdown, so the text needs no Markdown
escapes; only what would open an HTML tag or entity is neutralised.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from ..conversations import Exchange
from ..documents import DocumentRow
from ..i18n import t
from ..schema import Answer, Passage
from ..text import detect_lang

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-!|~>])")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_ENTITY = re.compile(r"&(?=#?\w+;)")
STREAMING = " ▍"
REFUSAL_MARK = "⚠"


def escape_markdown(text: str) -> str:
    """Document or user text as data inside a Markdown component: HTML-escaped, Markdown syntax neutralised."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def chat_text(text: str) -> str:
    """Plain text as a chat message: tags and entities cannot form, everything else stays as written."""
    return _TAG_START.sub("&lt;", _ENTITY.sub("&amp;", text))


def _source_line(n: str, passage: Passage) -> str:
    chunk = passage.chunk
    return f"{n} {chunk.title} — {chunk.location}"


def answer_text(answer: Answer) -> str:
    """A finished answer as the chat shows and copies it, all in the answer's language.

    Notices first, then the text with its [n] markers and the numbered sources beneath; a refusal carries
    its heading and the related reading instead.
    """
    lang = answer.lang
    parts = [f"ⓘ {notice}" for notice in answer.notices]
    if answer.refused:
        parts.append(f"{REFUSAL_MARK} {t(lang, 'not_covered')}\n{answer.text}")
        related = [_source_line("·", p) for p in answer.passages[:3]]
        if related:
            parts.append("\n".join([t(lang, "related"), *related]))
    else:
        parts.append(answer.text)
        lines = [_source_line(f"[{c.n}]", c.passage) for c in answer.citations]
        if lines:
            parts.append("\n".join([t(lang, "sources"), *lines]))
    return chat_text("\n\n".join(parts))


def partial_text(text: str, thinking: bool = False, ui_lang: str = "en") -> str:
    """A streamed, unfinished answer: the text so far, then a cursor, or a "thinking…" mark while a reasoning
    model thinks (never what it thinks)."""
    mark = t(ui_lang, "thinking") if thinking else STREAMING.strip()
    body = chat_text(text)
    return f"{body} {mark}" if body else mark


def stopped_text(exchange: Exchange) -> str:
    """An answer stopped while it was written: the text it had, then a mark, in the question's language."""
    mark = f"⏹ {t(detect_lang(exchange.question), 'stopped')}"
    body = chat_text(exchange.partial.strip())
    return f"{body}\n\n{mark}" if body else mark


def _passage_html(passage: Passage, label: str, ui_lang: str, element_id: str) -> str:
    chunk = passage.chunk
    parallel = ""
    if passage.parallel_text:
        parallel = (
            f'<div class="src-parallel"><div class="src-sub">{t(ui_lang, "parallel")}</div>'
            f"<p>{html.escape(passage.parallel_text)}</p></div>"
        )
    return (
        f'<details class="src" id="{element_id}">'
        f'<summary><span class="src-n">{html.escape(label)}</span>'
        f'<span class="src-title">{html.escape(chunk.title)}</span>'
        f'<span class="src-loc">{html.escape(chunk.location)}</span></summary>'
        f'<div class="src-body"><p class="src-text" lang="{chunk.lang}">{html.escape(chunk.text)}</p>{parallel}</div>'
        "</details>"
    )


def sources_html(answer: Answer | None, ui_lang: str) -> str:
    """The sources panel: cited passages (or related reading for a refusal), each one expandable."""
    if answer is None:
        return (
            f'<div class="sources sources-empty"><h3>{t(ui_lang, "sources")}</h3>'
            f'<p class="muted">{t(ui_lang, "sources_empty")}</p></div>'
        )
    if answer.refused:
        items = "".join(
            _passage_html(p, "·", ui_lang, f"related-{i}") for i, p in enumerate(answer.passages[:5], 1)
        )
        return (
            f'<div class="sources sources-refused"><h3>{t(ui_lang, "related")}</h3>'
            f'<div class="src-list"><p class="muted">{t(ui_lang, "related_note")}</p>{items}</div>'
            f"{_footer(answer, ui_lang)}</div>"
        )
    items = "".join(_passage_html(c.passage, str(c.n), ui_lang, f"src-{c.n}") for c in answer.citations)
    return (
        f'<div class="sources"><h3>{t(ui_lang, "sources")} <span class="count">{len(answer.citations)}</span></h3>'
        f'<div class="src-list">{items}</div>{_footer(answer, ui_lang)}</div>'
    )


def _footer(answer: Answer, ui_lang: str) -> str:
    """Who answered and how fast, and which index version the passages came from (the load test reads it)."""
    ms = answer.timings_ms.get("total", 0.0)
    text = html.escape(t(ui_lang, "timing", backend=answer.backend, ms=ms))
    if answer.index_version is None:
        return f'<p class="src-footer">{text}</p>'
    version = int(answer.index_version)
    label = html.escape(t(ui_lang, "index_version", version=version))
    return f'<p class="src-footer" data-index-version="{version}">{text} · {label}</p>'


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


def human_size(size: int | None) -> str:
    """1234567 → '1.2 MB'; unknown → '—'."""
    if size is None:
        return "—"
    value = float(size)
    for unit in ("B", "KB", "MB"):
        if value < 1024 or unit == "MB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} MB"


DOCUMENT_COLUMNS = ("col_title", "col_lang", "col_chunks", "col_file", "col_date", "col_size", "col_origin")


def document_rows(rows: Sequence[DocumentRow], ui_lang: str) -> list[list[object]]:
    """The documents table: title, languages, passages, file, date, size, corpus or upload."""
    return [
        [
            r.title,
            "/".join(r.languages),
            r.chunks,
            r.source_file,
            r.date or "—",
            human_size(r.size_bytes),
            t(ui_lang, "origin_upload" if r.removable else "origin_corpus")
            + (f" · {r.owner}" if r.owner else ""),
        ]
        for r in rows
    ]


def document_headers(ui_lang: str) -> list[str]:
    return [t(ui_lang, k) for k in DOCUMENT_COLUMNS]


def settings_markdown(backend: str, top_k: int, ui_lang: str) -> str:
    kind = (
        t(ui_lang, "backend_extractive")
        if backend == "extractive"
        else f"{t(ui_lang, 'backend_llm')} ({backend})"
    )
    return f"**{t(ui_lang, 'backend')}:** {html.escape(kind)} · **{t(ui_lang, 'top_k')}:** {top_k}"


def duration(seconds: float, ui_lang: str) -> str:
    """An estimate in words: '40 s', '3 min'."""
    if seconds < 90:
        return t(ui_lang, "seconds", n=max(1, round(seconds)))
    return t(ui_lang, "minutes", n=round(seconds / 60))

"""The retrieval inspector tab ("hit test"): why a question retrieved what it did, and why it was refused.

It shows what was searched (the rewrite of a follow-up), the gate's verdict with its reasons, the reader's
scores, the fused ranking and every channel's own list (each dense encoder and BM25, per language). This is
what a curator reads to see why a question failed. Every text is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import gradio as gr

from ..answer.question import QuestionError
from ..i18n import t
from ..schema import Chunk, Inspection
from .chat import HISTORY_TURNS, Conversation, Cores
from .updates import Updates

EXCERPT = 160


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT else flat[:EXCERPT] + "…"


def _rows(rows: Sequence[tuple[Chunk, float]], lang: str, marked: frozenset[str] = frozenset()) -> str:
    """One table of a ranked list: rank, score, the passage (title, location, excerpt)."""
    if not rows:
        return f'<p class="muted">{t(lang, "ins_empty")}</p>'
    head = "".join(f"<th>{t(lang, k)}</th>" for k in ("col_rank", "col_score", "col_passage"))
    body = "".join(
        f'<tr class="{"ins-top" if chunk.chunk_id in marked else ""}"><td>{rank}</td><td>{score:.3f}</td>'
        f"<td><b>{html.escape(chunk.title)}</b> <code>{html.escape(chunk.location)}</code><br>"
        f'<span lang="{chunk.lang}">{html.escape(_excerpt(chunk.text))}</span></td></tr>'
        for rank, (chunk, score) in enumerate(rows, 1)
    )
    return f'<table class="ins-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def inspection_html(inspection: Inspection, lang: str) -> str:
    """The whole inspection: what was searched, the verdict and reasons, the reader, fused, every channel."""
    retrieval = inspection.retrieval
    searched = html.escape(inspection.search.text)
    if inspection.search.text != inspection.question.text:
        rewritten = t(lang, "ins_rewritten", question=inspection.question.text)
        searched += f' <span class="muted">({html.escape(rewritten)})</span>'
    reasons = "".join(f"<li>{html.escape(t(lang, r.key, **r.values))}</li>" for r in inspection.reasons)
    parts = [
        f'<div class="ins-searched"><b>{t(lang, "ins_searched")}:</b> {searched}</div>',
        f'<div class="ins-verdict ins-{inspection.decision}"><b>{t(lang, "ins_verdict")}:</b> '
        f"{t(lang, 'ins_' + inspection.decision)}<ul>{reasons}</ul></div>",
    ]
    answered = frozenset(p.chunk.chunk_id for p in retrieval.passages)
    if retrieval.readings:
        readings = [(r.passage.chunk, r.score) for r in retrieval.readings]
        parts.append(f"<h4>{t(lang, 'ins_reader')}</h4>{_rows(readings, lang)}")
    else:
        parts.append(f'<h4>{t(lang, "ins_reader")}</h4><p class="muted">{t(lang, "ins_no_reader")}</p>')
    if retrieval.trace is not None:
        fused = [(p.chunk, p.score) for p in retrieval.trace.fused]
        parts.append(f"<h4>{t(lang, 'ins_fused')}</h4>{_rows(fused, lang, answered)}")
        for channel in retrieval.trace.channels:
            shown = t(lang, "ins_all_langs") if channel.lang == "*" else channel.lang
            title = t(lang, "ins_channel", source=channel.source, language=shown, weight=channel.weight)
            parts.append(
                f'<h4 class="ins-channel">{html.escape(title)}</h4>{_rows(channel.ranked, lang, answered)}'
            )
    return f'<div class="inspection">{"".join(parts)}</div>'


def inspect(cores: Cores, question: str, follow_up: bool, conversation: Conversation, lang: str) -> Updates:
    """Inspect a question; as a follow-up of the conversation on the Ask tab when the box is ticked."""
    history = conversation.turns[-HISTORY_TURNS:] if follow_up else ()
    try:
        inspection = cores.core(conversation.kb).explain(question or "", history=history)
    except QuestionError as exc:
        raise gr.Error(t(lang, "error", reason=str(exc)), title="advisor") from None
    return {"inspect_out": inspection_html(inspection, lang)}


def relabel(lang: str) -> Updates:
    return {
        "tab_inspect": gr.update(label=t(lang, "tab_inspect")),
        "inspect_hint": t(lang, "inspect_hint"),
        "inspect_box": gr.update(label=t(lang, "inspect_label")),
        "inspect_follow": gr.update(label=t(lang, "inspect_follow")),
        "inspect_button": gr.update(value=t(lang, "inspect_button")),
    }

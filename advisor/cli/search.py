"""`advisor search`: the passages a question retrieves, and with --explain why (the retrieval inspector).

A thin layer over `Advisor.explain`, registered on the main command in `advisor.cli`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from ..schema import Chunk, Inspection, Passage


def _excerpt(text: str, size: int = 90) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= size else flat[:size] + "…"


def _chunk_row(chunk: Chunk, score: float) -> dict[str, Any]:
    return {
        "chunk_id": chunk.chunk_id,
        "doc_id": chunk.doc_id,
        "title": chunk.title,
        "lang": chunk.lang,
        "location": chunk.location,
        "score": round(score, 4),
    }


def _passage_row(passage: Passage) -> dict[str, Any]:
    return {**_chunk_row(passage.chunk, passage.score), "scores": passage.scores}


def inspection_dict(inspection: Inspection) -> dict[str, Any]:
    """The inspection as JSON: what was searched, the verdict and its reasons, and every ranked list."""
    from ..i18n import t

    retrieval = inspection.retrieval
    lang = inspection.question.lang
    out: dict[str, Any] = {
        "question": inspection.question.text,
        "lang": lang,
        "searched_for": inspection.search.text,
        "decision": inspection.decision,
        "reasons": [t(lang, r.key, **r.values) for r in inspection.reasons],
        "answerability": inspection.verdict.answerability,
        "passages": [_passage_row(p) for p in retrieval.passages],
        "reader": [
            {"chunk_id": r.passage.chunk.chunk_id, "score": round(r.score, 4)} for r in retrieval.readings
        ],
    }
    if retrieval.trace is not None:
        out["channels"] = [
            {
                "source": c.source,
                "lang": c.lang,
                "weight": c.weight,
                "ranked": [_chunk_row(chunk, score) for chunk, score in c.ranked],
            }
            for c in retrieval.trace.channels
        ]
        out["fused"] = [_passage_row(p) for p in retrieval.trace.fused]
    return out


def _table(title: str, rows: list[tuple[Chunk, float]]) -> Any:
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_edge=False)
    for column, justify in (("#", "right"), ("score", "right"), ("passage", "left")):
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for rank, (chunk, score) in enumerate(rows, 1):
        table.add_row(str(rank), f"{score:.3f}", f"{chunk.title} — {chunk.location}\n{_excerpt(chunk.text)}")
    return table


def print_inspection(inspection: Inspection, explain: bool) -> None:
    """The ranked passages; with `explain`, the rewrite, the verdict and its reasons, and every list."""
    from rich.console import Console
    from rich.markup import escape

    from ..i18n import t

    console = Console()
    lang = inspection.question.lang
    retrieval = inspection.retrieval
    if inspection.search.text != inspection.question.text:
        rewrite = t(lang, "ins_rewritten", question=inspection.question.text)
        console.print(
            f"{t(lang, 'ins_searched')}: {escape(inspection.search.text)} [dim]({escape(rewrite)})[/dim]"
        )
    if explain:
        console.print(f"[bold]{t(lang, 'ins_verdict')}:[/bold] {t(lang, 'ins_' + inspection.decision)}")
        for reason in inspection.reasons:
            console.print(f"  • {escape(t(lang, reason.key, **reason.values))}")
        if retrieval.trace is not None:
            for channel in retrieval.trace.channels:
                shown = t(lang, "ins_all_langs") if channel.lang == "*" else channel.lang
                title = t(lang, "ins_channel", source=channel.source, language=shown, weight=channel.weight)
                console.print(_table(title, list(channel.ranked)))
            console.print(_table(t(lang, "ins_fused"), [(p.chunk, p.score) for p in retrieval.trace.fused]))
        if retrieval.readings:
            readings = [(r.passage.chunk, r.score) for r in retrieval.readings]
            console.print(_table(t(lang, "ins_reader"), readings))
        return
    console.print(_table(t(lang, "sources"), [(p.chunk, p.score) for p in retrieval.passages]))


def search(
    question: Annotated[str, typer.Argument(help="The question, in Chinese or English.")],
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            help="Also show every channel's ranking (each dense encoder, BM25), the fused ranking, the "
            "reader's scores and the gate's verdict with its reasons.",
        ),
    ] = False,
    after: Annotated[
        list[str] | None,
        typer.Option(
            "--after",
            help="An earlier question of the conversation (repeat for several): the question is "
            "then a follow-up, rewritten before it is searched.",
        ),
    ] = None,
    depth: Annotated[int, typer.Option(min=1, max=100, help="Entries shown per ranked list.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    kb: Annotated[str | None, typer.Option("--kb", help="The knowledge base to search.")] = None,
) -> None:
    """The passages a question retrieves, best first; --explain shows why (what a curator checks)."""
    from ..answer.question import QuestionError
    from . import shared

    advisor = shared.open_advisor(shared.settings(kb=kb))
    shared.ensure_index(advisor)
    history = [(earlier, "") for earlier in after or []]
    try:
        inspection = advisor.explain(question, history=history, depth=depth if explain else 0)
    except QuestionError as exc:
        shared.fail(str(exc))
        return
    if as_json:
        typer.echo(json.dumps(inspection_dict(inspection), ensure_ascii=False, indent=1))
    else:
        print_inspection(inspection, explain)

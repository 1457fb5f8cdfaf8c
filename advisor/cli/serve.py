"""`advisor serve` and `advisor feedback`: the web page, and what its users rated."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    pass

from . import shared
from .shared import KbOption


def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to bind (default 127.0.0.1; 0.0.0.0 for a team server).")
    ] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port (default 7860).")] = None,
    kb: KbOption = None,
) -> None:
    """Start the web page (chat with openable sources, documents, the inspector) and the API at /v1.

    --kb chooses the knowledge base the page opens with; the others are a choice on the page.
    """
    settings = shared.settings(host=host, port=port, kb=kb)
    from ..web.server import create, launch

    advisor = shared.open_advisor(settings)
    shared.ensure_index(advisor)
    typer.echo(
        f"advisor: starting the web page on http://{settings.host}:{settings.port} "
        f"(OpenAI-compatible API at /v1)",
        err=True,
    )
    launch(create(settings, advisor), settings.host, settings.port)


def feedback(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines instead of a table.")] = False,
    limit: Annotated[int, typer.Option(min=1, help="Newest N ratings.")] = 50,
    rating: Annotated[str | None, typer.Option(help="Only 'up' or only 'down'.")] = None,
) -> None:
    """List the thumbs up/down users gave answers on the web page (newest first), for corpus review."""
    from ..feedback import FeedbackStore

    if rating not in (None, "up", "down"):
        shared.fail("--rating must be 'up' or 'down'")
    settings = shared.settings()
    records = FeedbackStore(settings.feedback_path).list(limit=limit, rating=rating)
    if as_json:
        for record in records:
            typer.echo(json.dumps(record.to_dict(), ensure_ascii=False))
        return
    if not records:
        typer.echo(f"no feedback yet ({settings.feedback_path})")
        return
    import datetime

    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Feedback ({settings.feedback_path})")
    for column in ("id", "when", "rating", "question", "answer", "cited"):
        table.add_column(column, overflow="fold")
    for r in records:
        when = datetime.datetime.fromtimestamp(r.created).strftime("%Y-%m-%d %H:%M")
        cited = ", ".join(str(c.get("location", "")) for c in r.citations)
        answer = r.answer if len(r.answer) <= 160 else r.answer[:160] + "…"
        table.add_row(str(r.id), when, "👍" if r.rating == "up" else "👎", r.question, answer, cited)
    Console().print(table)

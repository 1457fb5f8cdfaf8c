"""`advisor ask` and `advisor chat`: questions answered with citations, in the terminal or as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from ..core import Advisor
    from ..schema import Answer

from . import shared
from .shared import BackendOption, KbOption, ProfileOption


def ask(
    question: Annotated[str | None, typer.Argument(help="The question, in Chinese or English.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object (the stable contract).")
    ] = False,
    batch: Annotated[
        Path | None,
        typer.Option(
            "--batch", help='JSONL file of {"id": ..., "question": ...}; writes one JSON object per line.'
        ),
    ] = None,
    top_k: Annotated[int | None, typer.Option("--top-k", min=1, max=20, help="Passages to retrieve.")] = None,
    backend: BackendOption = None,
    profile: ProfileOption = None,
    kb: KbOption = None,
) -> None:
    """Answer a question with numbered citations, or say plainly that the corpus does not cover it."""
    from ..answer.question import QuestionError

    shared.check_backend(backend)
    shared.check_profile(profile)
    settings = shared.settings(top_k=top_k, llm_backend=backend, kb=kb)
    if batch is None and question is None:
        shared.fail('give a question, or --batch FILE. Example: advisor ask "产业集聚和产业集群有什么区别？"')
    advisor = shared.open_advisor(settings)
    shared.ensure_index(advisor)
    if batch is not None:
        _ask_batch(advisor, batch, profile)
        return
    assert question is not None
    try:
        answer = advisor.ask(question, profile=profile)  # type: ignore[arg-type]
    except QuestionError as exc:
        shared.fail(str(exc))
        return
    if as_json:
        typer.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=1))
    else:
        _render(answer)


def _ask_batch(advisor: Advisor, path: Path, profile: str | None = None) -> None:
    from ..answer.question import QuestionError
    from ..answer.roles import PROFILES

    if not path.is_file():
        shared.fail(f"batch file not found: {path}")
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            row_id, text = item.get("id", number), str(item["question"])
            who = item.get("profile") or profile
            if who is not None and who not in PROFILES:
                raise TypeError(who)
        except (json.JSONDecodeError, KeyError, AttributeError, TypeError):
            typer.echo(
                json.dumps(
                    {"id": number, "error": f'line {number}: expected {{"id", "question", "profile"?}}'}
                )
            )
            continue
        try:
            out = {"id": row_id, **advisor.ask(text, profile=who).to_dict()}
        except QuestionError as exc:
            out = {"id": row_id, "question": text, "error": str(exc)}
        typer.echo(json.dumps(out, ensure_ascii=False))


def _render(answer: Answer, console: Any = None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.panel import Panel

    from ..i18n import t

    console = console or Console()
    for notice in answer.notices:
        console.print(f"[yellow]ⓘ {escape(notice)}[/yellow]")
    if answer.standalone_question:
        label = t(answer.lang, "searched_as")
        console.print(f"[dim]↳ {label}: {escape(answer.standalone_question)}[/dim]")
    style = "yellow" if answer.refused else "green"
    console.print(
        Panel(
            escape(answer.text),
            border_style=style,
            title="advisor",
            title_align="left",
            subtitle=f"[dim]{escape(answer.backend)}[/dim]" if answer.backend != "extractive" else None,
            subtitle_align="right",
        )
    )
    if answer.refused:
        if answer.passages:
            console.print(f"[bold]{t(answer.lang, 'related')}[/bold]")
            for p in answer.passages[:3]:
                console.print(f"  • {escape(p.chunk.title)} — [dim]{escape(p.chunk.location)}[/dim]")
        return
    console.print(f"[bold]{t(answer.lang, 'sources')}[/bold]")
    for c in answer.citations:
        chunk = c.passage.chunk
        console.print(
            f"[bold cyan][{c.n}][/bold cyan] {escape(chunk.title)} — [dim]{escape(chunk.location)}[/dim]"
        )
        excerpt = " ".join(chunk.text.split())
        console.print(f"    [dim]{escape(excerpt[:240])}{'…' if len(excerpt) > 240 else ''}[/dim]")


def chat(backend: BackendOption = None, profile: ProfileOption = None, kb: KbOption = None) -> None:
    """A conversation in the terminal: ask, read the cited answer, ask a follow-up (empty line or Ctrl-D quits).

    Follow-ups ("那第二种呢？", "and for small firms?") are understood from the conversation; /new starts over.
    """
    from rich.console import Console

    from ..answer.question import QuestionError

    shared.check_backend(backend)
    shared.check_profile(profile)
    advisor = shared.open_advisor(shared.settings(llm_backend=backend, kb=kb))
    shared.ensure_index(advisor)
    advisor.warm_up()
    console = Console()
    typer.echo("advisor — 请提问 / ask a question (empty line to quit, /new to start over)")
    history: list[tuple[str, str]] = []
    while True:
        try:
            line = input("\n? ")
        except (EOFError, KeyboardInterrupt):
            break
        if not line.strip() or line.strip() in ("/quit", "/exit"):
            break
        if line.strip() == "/new":
            history.clear()
            typer.echo("— new conversation / 新对话 —")
            continue
        try:
            answer = _stream_answer(advisor, line, history[-6:], console, profile)
        except QuestionError as exc:
            typer.echo(str(exc), err=True)
            continue
        except KeyboardInterrupt:
            typer.echo("(interrupted)", err=True)
            continue
        _render(answer, console)
        history.append((line, answer.text))


def _stream_answer(
    advisor: Advisor, question: str, history: list[tuple[str, str]], console: Any, profile: str | None = None
) -> Answer:
    """Show the answer as it is written (in a terminal), then return the final Answer to render in full."""
    from contextlib import nullcontext

    from rich.live import Live
    from rich.panel import Panel
    from rich.text import Text

    written = Text()
    live = (
        Live(Panel(written, border_style="dim"), console=console, transient=True, refresh_per_second=12)
        if console.is_terminal
        else nullcontext()
    )
    stream = advisor.stream(question, history=history, profile=profile)  # type: ignore[arg-type]
    with live as display:
        for text in stream:
            written.append(text)
            if display is not None:
                display.update(Panel(written, border_style="dim"))
    return stream.answer

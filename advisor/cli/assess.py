"""`advisor assess`: the diagnosis in the terminal (interactive or from an answers file), and saved assessments.

A thin layer over `advisor.assess.service.Assessor`, registered on the main command in `advisor/cli/__init__.py`.
"""

from __future__ import annotations

import datetime
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from . import shared

if TYPE_CHECKING:
    from ..assess.answers import Value
    from ..assess.framework import Criterion, Framework
    from ..assess.report import Assessment
    from ..assess.service import Assessor
    from ..schema import Lang

assess_app = typer.Typer(
    help=(
        "A structured diagnosis with a cited report: a park, a county or city industry, or an enterprise "
        "deciding whether to join a cluster. Run it without options to answer the questions here; "
        "with --answers FILE --out DIR to write report.md, report.docx, report.pdf and radar.png."
    ),
    invoke_without_command=True,
    no_args_is_help=False,
    add_completion=False,
)

LangOption = Annotated[
    str | None, typer.Option("--lang", help="Report language: zh or en (default: the file's).")
]


def _assessor(backend: str | None = None) -> Assessor:
    from ..assess.service import Assessor

    shared.check_backend(backend)
    advisor = shared.open_advisor(shared.settings(llm_backend=backend))
    shared.ensure_index(advisor)
    return Assessor(advisor)


def _lang(value: str | None) -> Lang | None:
    if value not in (None, "zh", "en"):
        shared.fail(f"--lang must be zh or en, not {value!r}")
    return value  # type: ignore[return-value]


@assess_app.callback()
def assess(
    ctx: typer.Context,
    answers: Annotated[
        Path | None, typer.Option("--answers", help="Answers file (YAML or JSON; see assessments/examples/).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for report.md, report.docx, report.pdf and radar.png."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the structured result as JSON.")] = False,
    kind: Annotated[
        str | None, typer.Option("--kind", help="park, county or enterprise (asked if not given).")
    ] = None,
    lang: LangOption = None,
    save: Annotated[
        str | None, typer.Option("--save", help="Also save it under this name ($ADVISOR_HOME/assessments/).")
    ] = None,
    date: Annotated[
        str | None, typer.Option("--date", help="A date (YYYY-MM-DD) to print in the report.")
    ] = None,
    backend: Annotated[
        str | None,
        typer.Option("--backend", help="An LLM backend for a short cited summary on top (optional)."),
    ] = None,
) -> None:
    """Diagnose from an answers file, or interactively when no file is given."""
    if ctx.invoked_subcommand is not None:
        return
    from ..assess.answers import AnswersError
    from ..assess.framework import FrameworkError
    from ..assess.report import CitationError

    fail = shared.fail
    chosen = _lang(lang)
    if date is not None:
        try:
            datetime.date.fromisoformat(date)
        except ValueError:
            fail(f"--date must look like 2025-06-30, not {date!r}")
    try:
        assessor = _assessor(backend)
        if answers is not None:
            sheet = assessor.load(answers, chosen)
        else:
            sheet = _interview(assessor, kind, chosen, name=save or "")
        result = assessor.assess(sheet, backend=backend)
        # Everything is rendered before anything is written; files only when they are asked for.
        files = assessor.report_files(result, date) if out is not None else {}
    except (AnswersError, FrameworkError) as exc:
        fail(str(exc))
        return
    except CitationError as exc:
        fail(f"the framework no longer matches the index: {exc}", code=1)
        return
    _finish(assessor, result, files, out, as_json, save)


def _finish(
    assessor: Assessor,
    result: Assessment,
    files: dict[str, bytes],
    out: Path | None,
    as_json: bool,
    save: str | None,
) -> None:
    if out is not None:
        for path in assessor.write(files, out):
            typer.echo(f"wrote {path}", err=True)
    if save:
        from ..assess.store import now

        record = assessor.save(result, save, now())
        typer.echo(f"saved as {record.id} ({assessor.store.directory})", err=True)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=1))
    elif out is None:
        _show(assessor.report_markdown(result))


def _show(markdown: str) -> None:
    """The report in the terminal (the chart is only in the files)."""
    from rich.console import Console
    from rich.markdown import Markdown

    text = "\n".join(line for line in markdown.splitlines() if not line.startswith("!["))
    Console().print(Markdown(text))


# --- the interview ---------------------------------------------------------------------------------
def _pick_kind(frameworks: dict[str, Framework], ask: Callable[[str], str]) -> str:
    kinds = list(frameworks)
    for number, k in enumerate(kinds, 1):
        typer.echo(f"  {number}. {frameworks[k].title.zh} / {frameworks[k].title.en} ({k})")
    while True:
        reply = ask("评估对象 / what is assessed [1]: ").strip() or "1"
        if reply in kinds:
            return reply
        if reply.isdigit() and 1 <= int(reply) <= len(kinds):
            return kinds[int(reply) - 1]
        typer.echo(f"  1–{len(kinds)}, or one of {', '.join(kinds)}")


def parse_reply(criterion: Criterion, reply: str) -> Value | None:
    """A typed answer in the terminal: y/p/n (or 是/部分/否), a number, an option number; '' skips."""
    from ..assess.answers import check_value
    from ..assess.framework import ChoiceAnswer, NumberAnswer

    text = reply.strip()
    if not text:
        return None
    answer = criterion.answer
    if isinstance(answer, NumberAnswer):
        try:
            number = float(text.rstrip("%").strip())
        except ValueError:
            raise ValueError(f"a number, {answer.min:g}–{answer.max:g} {answer.unit.en}") from None
        try:
            return check_value(criterion, number)
        except ValueError as exc:
            raise ValueError(str(exc).replace(f"answers.{criterion.id}: ", "")) from None
    if isinstance(answer, ChoiceAnswer) and text.isdigit() and 1 <= int(text) <= len(answer.options):
        return answer.options[int(text) - 1].id
    try:
        return check_value(criterion, text)
    except ValueError as exc:
        raise ValueError(str(exc).replace(f"answers.{criterion.id}: ", "")) from None


def _interview(
    assessor: Assessor, kind: str | None, lang: Lang | None, name: str = "", ask: Callable[[str], str] = input
) -> Any:
    """Ask every question of the chosen framework in the terminal; Enter skips one."""
    from ..assess.answers import AnswersError, AnswerSheet
    from ..assess.framework import ChoiceAnswer, NumberAnswer
    from ..assess.strings import answer_text

    frameworks = assessor.frameworks
    if kind is not None and kind not in frameworks:
        raise AnswersError(f"kind: expected one of {', '.join(frameworks)}, got {kind!r}")
    try:
        chosen_kind = kind or _pick_kind(frameworks, ask)
        chosen_lang: Lang = lang or (
            "en" if ask("语言 / language [zh/en] (zh): ").strip().lower() == "en" else "zh"
        )
        framework = frameworks[chosen_kind]
        typer.echo(f"\n{framework.title(chosen_lang)} — {framework.intro(chosen_lang)}\n")
        given: dict[str, Value] = {}
        total = len(framework.criteria)
        for number, criterion in enumerate(framework.criteria, 1):
            dimension = framework.dimensions_by_id[criterion.dimension].name(chosen_lang)
            typer.echo(f"[{number}/{total}] {dimension} · {criterion.label(chosen_lang)}")
            typer.echo(criterion.question(chosen_lang))
            where = "; ".join(
                f"{p.chunk.title} · {p.chunk.location}" for p in assessor.sources_of(criterion, chosen_lang)
            )
            why = "为什么问" if chosen_lang == "zh" else "Why we ask"
            typer.echo(f"  {why}: {criterion.why(chosen_lang)} ({where})")
            answer = criterion.answer
            if isinstance(answer, ChoiceAnswer):
                for option_number, option in enumerate(answer.options, 1):
                    typer.echo(f"    {option_number}. {option.label(chosen_lang)}")
                prompt = f"  1–{len(answer.options)}"
            elif isinstance(answer, NumberAnswer):
                prompt = f"  {answer.min:g}–{answer.max:g} {answer.unit(chosen_lang)}"
            else:
                prompt = "  是 / 部分 / 否 (y/p/n)" if chosen_lang == "zh" else "  yes / partly / no (y/p/n)"
            skip = "回车跳过" if chosen_lang == "zh" else "Enter skips"
            while True:
                try:
                    value = parse_reply(criterion, ask(f"{prompt}, {skip}: "))
                    break
                except ValueError as exc:
                    typer.echo(f"  ↳ {exc}")
            if value is not None:
                given[criterion.id] = value
                typer.echo(f"  ✓ {answer_text(criterion, value, chosen_lang)}\n")
            else:
                typer.echo("")
    except (EOFError, KeyboardInterrupt):
        typer.echo("\n(stopped: nothing was written)", err=True)
        raise typer.Exit(1) from None
    return AnswerSheet(chosen_kind, chosen_lang, given, name)


# --- saved assessments -----------------------------------------------------------------------------
@assess_app.command("list")
def list_saved(as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False) -> None:
    """List saved assessments, newest first."""
    from dataclasses import asdict

    from ..assess.store import AssessmentStore

    store = AssessmentStore(shared.settings().assessments_dir)
    records = store.list()
    if as_json:
        for record in records:
            typer.echo(json.dumps(asdict(record), ensure_ascii=False))
        return
    if not records:
        typer.echo(f"no saved assessments yet ({store.directory}); save one with --save NAME")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Saved assessments ({store.directory})")
    for column in ("id", "name", "kind", "stage", "saved"):
        table.add_column(column, overflow="fold")
    for r in records:
        table.add_row(r.id, r.name, r.kind, r.stage, r.saved_at)
    Console().print(table)


@assess_app.command()
def show(
    ref: Annotated[str, typer.Argument(help="The id or name of a saved assessment.")],
    out: Annotated[Path | None, typer.Option("--out", help="Write the report files to this folder.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the structured result as JSON.")] = False,
    lang: LangOption = None,
) -> None:
    """Reopen a saved assessment: score its answers again and show (or write) the report."""
    from ..assess.store import StoreError

    assessor = _assessor()
    try:
        result = assessor.reopen(ref, _lang(lang))
    except StoreError as exc:
        shared.fail(str(exc))
        return
    _finish(assessor, result, assessor.report_files(result) if out is not None else {}, out, as_json, None)


@assess_app.command()
def compare(
    a: Annotated[str, typer.Argument(help="The first saved assessment (e.g. last year).")],
    b: Annotated[str, typer.Argument(help="The second (e.g. this year); changes are b − a.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    lang: LangOption = None,
) -> None:
    """Compare two saved assessments of the same kind, dimension by dimension."""
    from ..assess.store import StoreError

    assessor = _assessor()
    try:
        comparison = assessor.compare(a, b, _lang(lang))
    except (StoreError, ValueError) as exc:
        shared.fail(str(exc))
        return
    if as_json:
        typer.echo(json.dumps(comparison.to_dict(), ensure_ascii=False, indent=1))
        return
    from rich.console import Console
    from rich.table import Table

    shown = comparison.b.lang
    header, rows = comparison.table(
        shown, comparison.a.diagnosis.sheet.name or a, comparison.b.diagnosis.sheet.name or b
    )
    table = Table(title=comparison.a.framework.title(shown))
    for column in header:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    Console(file=sys.stdout).print(table)

"""The `advisor` command: a thin layer over advisor.core; no retrieval or answering logic lives here."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from .config import Settings
    from .core import Advisor
    from .schema import Answer

app = typer.Typer(
    help=(
        "advisor — a bilingual (中文/English) advisor on industrial strategy: clusters, agglomeration, ecosystems.\n\n"
        "Answers come from the documents in corpus/ (and any you add), each claim with a numbered citation; "
        "when the documents do not cover a question, advisor says so. Works offline with the bundled models."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)


def offline_environment() -> None:
    """No hub downloads, no telemetry, no analytics: set before any model library is imported."""
    for name, value in {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "ANONYMIZED_TELEMETRY": "False",
        "TOKENIZERS_PARALLELISM": "false",
    }.items():
        os.environ.setdefault(name, value)


def _settings(**overrides: Any) -> Settings:
    from pydantic import ValidationError

    from .config import Settings

    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        _fail(f"invalid settings: {exc}")
        raise  # unreachable


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"advisor: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def _progress_bars() -> Iterator[Callable[[int, str], Callable[[int], None]]]:
    """A factory of tqdm bars on stderr for long work; closed when the block ends."""
    from tqdm import tqdm

    bars: list[Any] = []

    def factory(total: int, label: str) -> Callable[[int], None]:
        bar = tqdm(total=total, desc=label, unit="chunk", file=sys.stderr, leave=True, dynamic_ncols=True)
        bars.append(bar)
        return bar.update

    try:
        yield factory
    finally:
        for bar in bars:
            bar.close()


def _advisor(settings: Settings) -> Advisor:
    from .core import Advisor

    return Advisor(settings)


def _ensure_index(advisor: Advisor) -> None:
    if advisor.index.exists():
        return
    typer.echo("advisor: no index yet — building it from corpus/ first (one time, about a minute).", err=True)
    with _progress_bars() as progress:
        report = advisor.ensure_index(progress)
    if report is not None:
        _print_failures(report.failed)


def _print_failures(failed: list[str]) -> None:
    for line in failed:
        typer.echo(f"  skipped {line}", err=True)


@app.command()
def setup() -> None:
    """Prepare a fresh machine: rebuild and verify the bundled embedding model, then build the index."""
    settings = _settings()
    advisor = _advisor(settings)
    typer.echo(f"advisor home: {settings.home}", err=True)
    if not settings.embedding_model:
        from .embed.e5_rebuild import ensure_e5_model

        typer.echo(
            "checking the bundled multilingual-e5-small model (first run rebuilds it: ~1 min)…", err=True
        )
        path = ensure_e5_model(settings.model_cache)
        typer.echo(f"model ready: {path}", err=True)
    with _progress_bars() as progress:
        report = advisor.ingest(progress=progress)
    _print_failures(report.failed)
    typer.echo(
        f"index ready: {report.documents} documents, {report.chunks} chunks, {report.embedded} embedded now."
    )


@app.command()
def ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Extra .md/.txt files or folders to index (remembered for later runs)."),
    ] = None,
) -> None:
    """Build or update the index from corpus/ plus extra files. Unchanged text is never embedded again."""
    settings = _settings()
    advisor = _advisor(settings)
    try:
        with _progress_bars() as progress:
            report = advisor.ingest(paths or [], progress=progress)
    except FileNotFoundError as exc:
        _fail(f"{exc}. Check the path and try again.")
        return
    _print_failures(report.failed)
    for synced in report.synced:
        typer.echo(
            f"{synced.collection}: {synced.added} added, {synced.updated} updated, "
            f"{synced.skipped} unchanged, {synced.deleted} removed"
        )
    typer.echo(f"{report.documents} documents, {report.chunks} chunks in the index.")


@app.command()
def sources(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the documents in the index: id, title, languages, number of chunks."""
    advisor = _advisor(_settings())
    _ensure_index(advisor)
    rows = advisor.sources()
    if as_json:
        typer.echo(json.dumps([r.__dict__ for r in rows], ensure_ascii=False, indent=1))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Documents in the index")
    for column in ("id", "title", "lang", "chunks", "file", "note"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(r.doc_id, r.title, "/".join(r.languages), str(r.chunks), r.path, r.note)
    Console().print(table)


@app.command()
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
) -> None:
    """Answer a question with numbered citations, or say plainly that the corpus does not cover it."""
    from .answer.question import QuestionError

    settings = _settings(top_k=top_k)
    if batch is None and question is None:
        _fail('give a question, or --batch FILE. Example: advisor ask "产业集聚和产业集群有什么区别？"')
    advisor = _advisor(settings)
    _ensure_index(advisor)
    if batch is not None:
        _ask_batch(advisor, batch)
        return
    assert question is not None
    try:
        answer = advisor.ask(question)
    except QuestionError as exc:
        _fail(str(exc))
        return
    if as_json:
        typer.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=1))
    else:
        _render(answer)


def _ask_batch(advisor: Advisor, path: Path) -> None:
    from .answer.question import QuestionError

    if not path.is_file():
        _fail(f"batch file not found: {path}")
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            row_id, text = item.get("id", number), str(item["question"])
        except (json.JSONDecodeError, KeyError, AttributeError, TypeError):
            typer.echo(json.dumps({"id": number, "error": f'line {number}: expected {{"id", "question"}}'}))
            continue
        try:
            out = {"id": row_id, **advisor.ask(text).to_dict()}
        except QuestionError as exc:
            out = {"id": row_id, "question": text, "error": str(exc)}
        typer.echo(json.dumps(out, ensure_ascii=False))


def _render(answer: Answer) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.panel import Panel

    console = Console()
    for notice in answer.notices:
        console.print(f"[yellow]ⓘ {escape(notice)}[/yellow]")
    style = "yellow" if answer.refused else "green"
    console.print(Panel(escape(answer.text), border_style=style, title="advisor", title_align="left"))
    zh = answer.lang == "zh"
    if answer.refused:
        if answer.passages:
            console.print("[bold]" + ("相关阅读" if zh else "Related reading") + "[/bold]")
            for p in answer.passages[:3]:
                console.print(f"  • {escape(p.chunk.title)} — [dim]{escape(p.chunk.location)}[/dim]")
        return
    console.print("[bold]" + ("出处" if zh else "Sources") + "[/bold]")
    for c in answer.citations:
        chunk = c.passage.chunk
        console.print(
            f"[bold cyan][{c.n}][/bold cyan] {escape(chunk.title)} — [dim]{escape(chunk.location)}[/dim]"
        )
        excerpt = " ".join(chunk.text.split())
        console.print(f"    [dim]{escape(excerpt[:240])}{'…' if len(excerpt) > 240 else ''}[/dim]")


@app.command()
def chat() -> None:
    """A conversation in the terminal: ask, read the cited answer, ask again (empty line or Ctrl-D quits)."""
    from .answer.question import QuestionError

    advisor = _advisor(_settings())
    _ensure_index(advisor)
    advisor.warm_up()
    typer.echo("advisor — 请提问 / ask a question (empty line to quit)")
    while True:
        try:
            line = input("\n? ")
        except (EOFError, KeyboardInterrupt):
            break
        if not line.strip():
            break
        try:
            _render(advisor.ask(line))
        except QuestionError as exc:
            typer.echo(str(exc), err=True)


@app.command("eval")
def eval_(
    dataset: Annotated[Path, typer.Option(help="Golden set (JSONL).")] = Path("evals/golden.jsonl"),
    out: Annotated[Path, typer.Option(help="Folder for report.md, report.json and rows.jsonl.")] = Path(
        "evals/results"
    ),
) -> None:
    """Measure retrieval on a golden set (hit@1, recall@5, MRR) beside BM25-only and dense-only baselines."""
    import warnings

    from .evals.dataset import DatasetError, load_dataset, resolve_sources
    from .evals.report import retrieval_table, write_report
    from .evals.runner import retrieval_rows, summarize

    advisor = _advisor(_settings())
    _ensure_index(advisor)
    try:
        raw_items = load_dataset(dataset)
    except DatasetError as exc:
        _fail(str(exc))
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        items = resolve_sources(raw_items, advisor.sources())
    for warning in caught:
        typer.echo(f"warning: {warning.message}", err=True)
    advisor.warm_up()
    from tqdm import tqdm

    with tqdm(total=len(items), desc="questions", file=sys.stderr) as bar:
        rows = retrieval_rows(advisor, items, on_item=lambda: bar.update(1))
    summary = summarize(rows)
    meta = {
        "dataset": str(dataset),
        "items": len(items),
        "command": f"advisor eval --dataset {dataset} --out {out}",
    }
    write_report(out, summary, rows, meta)
    typer.echo(retrieval_table(summary))
    typer.echo(f"\nreport: {out / 'report.md'}")


def main() -> None:
    """Console-script entry point."""
    offline_environment()
    app()


if __name__ == "__main__":
    main()

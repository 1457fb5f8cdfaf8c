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

from .cli_access import kb_app, users_app
from .cli_assess import assess_app
from .cli_search import search

if TYPE_CHECKING:
    from .config import Settings
    from .core import Advisor
    from .evals.judge import Judge
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
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        _fail(f"invalid settings: {exc}")
        raise  # unreachable
    if settings.kb and not (settings.kb_dir / "kb.json").is_file():
        _fail(f"no knowledge base named {settings.kb!r}: create it with `advisor kb create {settings.kb}`")
    return settings


KbOption = Annotated[
    str | None,
    typer.Option(
        "--kb",
        help="The knowledge base to use (`advisor kb list`); default: the bundled corpus (ADVISOR_KB).",
    ),
]


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
        from .embed.e5 import ensure_e5_model

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
        typer.Argument(
            help="Extra .md, .txt, .pdf, .docx or .html files, or folders of them, to index (remembered for later runs)."
        ),
    ] = None,
    kb: KbOption = None,
) -> None:
    """Build or update the index from corpus/ plus extra files. Unchanged text is never embedded again.

    A file named here that cannot be read is an error (exit 2), with the same limits and messages as an upload
    on the web page; inside a named folder, such a file is skipped and reported.
    """
    from .ingest.convert import Limits
    from .ingest.load import LoadError, load_file

    settings = _settings(kb=kb)
    named = [p for p in paths or [] if p.is_file()]
    for path in named:
        try:
            load_file(path, limits=Limits.for_upload_mb(settings.max_upload_mb))
        except (LoadError, OSError) as exc:
            _fail(str(exc) if isinstance(exc, LoadError) else f"{path}: {exc.strerror or exc}")
    advisor = _advisor(settings)
    try:
        with _progress_bars() as progress:
            report = advisor.ingest(paths or [], progress=progress)
    except FileNotFoundError as exc:
        _fail(f"{exc}. Check the path and try again.")
        return
    _print_failures(report.failed)
    refused = [line for line in report.failed for p in named if line.startswith(f"{p.name}:")]
    if refused:
        _fail(f"not indexed: {refused[0]}")
    for synced in report.synced:
        typer.echo(
            f"{synced.collection}: {synced.added} added, {synced.updated} updated, "
            f"{synced.skipped} unchanged, {synced.deleted} removed"
        )
    typer.echo(f"{report.documents} documents, {report.chunks} chunks in the index.")


@app.command()
def sources(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    kb: KbOption = None,
) -> None:
    """List the documents in the index: id, title, languages, number of chunks."""
    advisor = _advisor(_settings(kb=kb))
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


BackendOption = Annotated[
    str | None,
    typer.Option(
        "--backend",
        help="Who writes the answer: extractive (default, offline), openai (any OpenAI-compatible server) "
        "or ollama. Overrides ADVISOR_LLM_BACKEND; the model is set by ADVISOR_LLM_MODEL/ADVISOR_LLM_BASE_URL.",
    ),
]


ProfileOption = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="Who is asking: sme (a small or medium firm), park (a park operator), official (county/city "
        "government) or consultant. Puts first what that client can act on; without it, the answer addresses "
        "whoever the question implies.",
    ),
]


def _check_profile(profile: str | None) -> None:
    from .answer.roles import PROFILES

    if profile is not None and profile not in PROFILES:
        _fail(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)}")


def _check_backend(backend: str | None) -> None:
    from .config import BACKENDS

    if backend is not None and backend not in BACKENDS:
        _fail(f"unknown backend {backend!r}: choose one of {', '.join(BACKENDS)}")


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
    backend: BackendOption = None,
    profile: ProfileOption = None,
    kb: KbOption = None,
) -> None:
    """Answer a question with numbered citations, or say plainly that the corpus does not cover it."""
    from .answer.question import QuestionError

    _check_backend(backend)
    _check_profile(profile)
    settings = _settings(top_k=top_k, llm_backend=backend, kb=kb)
    if batch is None and question is None:
        _fail('give a question, or --batch FILE. Example: advisor ask "产业集聚和产业集群有什么区别？"')
    advisor = _advisor(settings)
    _ensure_index(advisor)
    if batch is not None:
        _ask_batch(advisor, batch, profile)
        return
    assert question is not None
    try:
        answer = advisor.ask(question, profile=profile)  # type: ignore[arg-type]
    except QuestionError as exc:
        _fail(str(exc))
        return
    if as_json:
        typer.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=1))
    else:
        _render(answer)


def _ask_batch(advisor: Advisor, path: Path, profile: str | None = None) -> None:
    from .answer.question import QuestionError
    from .answer.roles import PROFILES

    if not path.is_file():
        _fail(f"batch file not found: {path}")
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

    from .i18n import t

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


@app.command()
def chat(backend: BackendOption = None, profile: ProfileOption = None, kb: KbOption = None) -> None:
    """A conversation in the terminal: ask, read the cited answer, ask a follow-up (empty line or Ctrl-D quits).

    Follow-ups ("那第二种呢？", "and for small firms?") are understood from the conversation; /new starts over.
    """
    from rich.console import Console

    from .answer.question import QuestionError

    _check_backend(backend)
    _check_profile(profile)
    advisor = _advisor(_settings(llm_backend=backend, kb=kb))
    _ensure_index(advisor)
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


DEFAULT_SPLITS = ("dev=evals/golden.jsonl", "test=evals/test.jsonl", "client=evals/client.jsonl")


def _named(values: list[str], what: str) -> list[tuple[str, Path]]:
    """ "NAME=PATH" or a bare PATH (named after the file) → (name, path) pairs, names unique."""
    pairs: list[tuple[str, Path]] = []
    for value in values:
        name, sep, path = value.partition("=")
        pair = (name, Path(path)) if sep and name and "/" not in name else (Path(value).stem, Path(value))
        if any(pair[0] == seen for seen, _ in pairs):
            _fail(f"two {what}s are named {pair[0]!r}: name them, e.g. dev=PATH test=PATH")
        pairs.append(pair)
    return pairs


@app.command("eval")
def eval_(
    dataset: Annotated[
        list[str] | None,
        typer.Option(
            help="A golden set (JSONL; see advisor/evals/dataset.py) as NAME=PATH or PATH; repeat for several "
            "splits. Default: dev=evals/golden.jsonl (tune here), test=evals/test.jsonl and client=evals/client.jsonl "
            "(report here)."
        ),
    ] = None,
    out: Annotated[
        Path,
        typer.Option(help="Folder for report.md, report.json, rows.jsonl and the charts (one per split)."),
    ] = Path("evals/results"),
    corpus: Annotated[
        Path | None,
        typer.Option(
            help="Evaluate on this corpus folder instead of the bundled one (an index of its own under "
            "ADVISOR_HOME/eval-corpora/), e.g. evals/external/xquad-rag-dev/corpus."
        ),
    ] = None,
    backend: BackendOption = None,
    baselines: Annotated[
        bool, typer.Option(help="Also answer every question with BM25-only and dense-only retrieval.")
    ] = True,
    resume: Annotated[
        bool, typer.Option("--resume", help="Reuse finished rows in OUT/rows.jsonl from an interrupted run.")
    ] = False,
    gate: Annotated[
        list[str] | None,
        typer.Option(
            help="Thresholds TOML for a split, as NAME=PATH (e.g. test=evals/thresholds.toml), or PATH when "
            "there is one split: exit 1 when a figure falls outside."
        ),
    ] = None,
    judge: Annotated[
        str | None,
        typer.Option(
            help="Also score advisor's answers with an LLM judge: openai (any OpenAI-compatible endpoint, "
            "ADVISOR_JUDGE_BASE_URL / ADVISOR_JUDGE_MODEL / ADVISOR_JUDGE_API_KEY, else the LLM settings)."
        ),
    ] = None,
) -> None:
    """Measure answers and retrieval on golden sets beside BM25-only and dense-only baselines.

    Writes report.md, report.json, rows.jsonl and PNG charts to OUT (OUT/<split>/ for several splits) and
    prints each split's headline table. No LLM judge unless --judge asks for one.
    """
    from tqdm import tqdm

    from .evals.dataset import DatasetError
    from .evals.gate import GateError
    from .evals.suite import SplitRun, run_splits

    _check_backend(backend)
    splits = _named(dataset or list(DEFAULT_SPLITS), "dataset")
    gates = dict(_named(gate or [], "gate"))
    if len(splits) == 1 and len(gates) == 1 and splits[0][0] not in gates:
        gates = {splits[0][0]: next(iter(gates.values()))}  # one split, one gate: it is that split's
    unknown = set(gates) - {name for name, _ in splits}
    if unknown:
        _fail(f"--gate names no split given with --dataset: {', '.join(sorted(unknown))}")
    settings = _settings(llm_backend=backend)
    if corpus is not None:
        if not corpus.is_dir():
            _fail(f"corpus folder not found: {corpus}")
        settings = _eval_corpus_settings(settings, corpus)
    judged_by = _judge(judge, settings) if judge is not None else None
    advisor = _advisor(settings)
    _ensure_index(advisor)
    bars: list[Any] = []

    def progress(total: int) -> Callable[[dict[str, Any], bool], None]:
        bar = tqdm(total=total, desc="questions", unit="q", file=sys.stderr, dynamic_ncols=True)
        bars.append(bar)
        return lambda row, reused: bar.update(1)

    command = "advisor eval " + " ".join(sys.argv[2:]) if len(sys.argv) > 2 else "advisor eval"
    try:
        results = run_splits(
            advisor,
            [SplitRun(name, path, gates.get(name)) for name, path in splits],
            out,
            backend=backend,
            baselines=baselines,
            resume=resume,
            progress=progress,
            command=command,
            judge=judged_by,
        )
    except (DatasetError, GateError) as exc:
        _fail(str(exc))
        return
    finally:
        for bar in bars:
            bar.close()
    failed = False
    for name, result in results.items():
        for note in result.warnings:
            typer.echo(f"warning: {note}", err=True)
        if len(results) > 1:
            typer.echo(f"\n== {name} ({len(result.rows)} questions)")
        typer.echo(result.table)
        reused = f", {result.reused} rows reused" if result.reused else ""
        typer.echo(f"\n{len(result.rows)} questions in {result.seconds:.0f} s{reused}.")
        if result.gate is not None:
            if result.gate.passed:
                typer.echo(f"gate passed: {result.gate.checked} thresholds in {gates[name]}")
            else:
                failed = True
                for line in result.gate.failures:
                    typer.echo(f"gate ({name}): {line}", err=True)
                typer.echo(
                    f"advisor: eval gate failed on {name} ({len(result.gate.failures)} of {result.gate.checked})",
                    err=True,
                )
    typer.echo(f"report: {out / 'report.md'}")
    if failed:
        raise typer.Exit(1)


def _eval_corpus_settings(settings: Settings, corpus: Path) -> Settings:
    """Settings for evaluating another corpus: its own index under HOME/eval-corpora, same models."""
    import hashlib

    resolved = corpus.resolve()
    tag = hashlib.sha1(str(resolved).encode()).hexdigest()[:8]
    home = settings.home / "eval-corpora" / f"{resolved.name}-{tag}"
    return settings.model_copy(
        update={"corpus_dir": resolved, "home": home, "models_dir": settings.model_cache}
    )


def _judge(kind: str, settings: Settings) -> Judge:
    """The eval's LLM judge from the settings; exit 2 with what to set when there is none."""
    from .answer.llm import LLMError
    from .evals.judge import JUDGES, build_judge

    if kind not in JUDGES:
        _fail(f"unknown judge {kind!r}: choose {', '.join(JUDGES)}")
    try:
        return build_judge(settings)
    except LLMError:
        _fail(
            "the judge is not configured: set ADVISOR_JUDGE_MODEL and ADVISOR_JUDGE_BASE_URL (or an API key)"
        )
        raise  # unreachable


@app.command()
def bench(
    out: Annotated[Path, typer.Option(help="Folder for latest.json, a dated copy and charts.")] = Path(
        "bench/results"
    ),
    sizes: Annotated[str, typer.Option(help="Synthetic corpus sizes, comma-separated.")] = "10000,100000",
    ingest_sample: Annotated[
        int, typer.Option(help="Chunks really encoded to measure ingest throughput.")
    ] = 2000,
    phases: Annotated[
        str,
        typer.Option(help="Any of ingest,scale,cold_start,web,load (load: two workers on a Chroma server)."),
    ] = "ingest,scale,cold_start,web,load",
    users: Annotated[int, typer.Option(help="Simultaneous web users in the web and load phases.")] = 8,
    documents: Annotated[int, typer.Option(help="Documents ingested elsewhere during the load phase.")] = 200,
) -> None:
    """Measure ingest, latency against bare encoding at 10k–100k chunks, cold start, memory, a server-mode load test."""
    from .bench.run import BenchConfig, run_bench

    config = BenchConfig(
        out=out,
        sizes=tuple(int(s) for s in sizes.split(",") if s.strip()),
        ingest_sample=ingest_sample,
        phases=tuple(p.strip() for p in phases.split(",") if p.strip()),
        users=users,
        load_documents=documents,
    )
    results = run_bench(config, log=lambda line: typer.echo(line, err=True))
    typer.echo(json.dumps({k: v for k, v in results.items() if k != "machine"}, ensure_ascii=False, indent=1))


@app.command()
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
    settings = _settings(host=host, port=port, kb=kb)
    from .web.server import create, launch

    advisor = _advisor(settings)
    _ensure_index(advisor)
    typer.echo(
        f"advisor: starting the web page on http://{settings.host}:{settings.port} "
        f"(OpenAI-compatible API at /v1)",
        err=True,
    )
    launch(create(settings, advisor), settings.host, settings.port)


@app.command()
def feedback(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines instead of a table.")] = False,
    limit: Annotated[int, typer.Option(min=1, help="Newest N ratings.")] = 50,
    rating: Annotated[str | None, typer.Option(help="Only 'up' or only 'down'.")] = None,
) -> None:
    """List the thumbs up/down users gave answers on the web page (newest first), for corpus review."""
    from .feedback import FeedbackStore

    if rating not in (None, "up", "down"):
        _fail("--rating must be 'up' or 'down'")
    settings = _settings()
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


app.command()(search)
app.add_typer(assess_app, name="assess")
app.add_typer(kb_app, name="kb")
app.add_typer(users_app, name="users")


def main() -> None:
    """Console-script entry point."""
    offline_environment()
    app()


if __name__ == "__main__":
    main()

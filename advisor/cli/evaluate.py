"""`advisor eval` and `advisor bench`: measured answers, retrieval, speed and memory."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from ..config import Settings
    from ..evals.judge import Judge

from . import shared
from .shared import BackendOption

DEFAULT_SPLITS = (
    "dev=evals/golden.jsonl",
    "client-dev=evals/client_dev.jsonl",
    "test=evals/test.jsonl",
    "client=evals/client.jsonl",
)


def _named(values: list[str], what: str) -> list[tuple[str, Path]]:
    """ "NAME=PATH" or a bare PATH (named after the file) → (name, path) pairs, names unique."""
    pairs: list[tuple[str, Path]] = []
    for value in values:
        name, sep, path = value.partition("=")
        pair = (name, Path(path)) if sep and name and "/" not in name else (Path(value).stem, Path(value))
        if any(pair[0] == seen for seen, _ in pairs):
            shared.fail(f"two {what}s are named {pair[0]!r}: name them, e.g. dev=PATH test=PATH")
        pairs.append(pair)
    return pairs


def eval_(
    dataset: Annotated[
        list[str] | None,
        typer.Option(
            help="A golden set (JSONL; see advisor/evals/dataset.py) as NAME=PATH or PATH; repeat for several "
            "splits. Default: dev=evals/golden.jsonl and client-dev=evals/client_dev.jsonl (tune here), "
            "test=evals/test.jsonl and client=evals/client.jsonl (report here)."
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

    from ..evals.dataset import DatasetError
    from ..evals.gate import GateError
    from ..evals.suite import SplitRun, run_splits

    shared.check_backend(backend)
    splits = _named(dataset or list(DEFAULT_SPLITS), "dataset")
    gates = dict(_named(gate or [], "gate"))
    if len(splits) == 1 and len(gates) == 1 and splits[0][0] not in gates:
        gates = {splits[0][0]: next(iter(gates.values()))}  # one split, one gate: it is that split's
    unknown = set(gates) - {name for name, _ in splits}
    if unknown:
        shared.fail(f"--gate names no split given with --dataset: {', '.join(sorted(unknown))}")
    settings = shared.settings(llm_backend=backend)
    if corpus is not None:
        if not corpus.is_dir():
            shared.fail(f"corpus folder not found: {corpus}")
        settings = _eval_corpus_settings(settings, corpus)
    judged_by = _judge(judge, settings) if judge is not None else None
    advisor = shared.open_advisor(settings)
    shared.ensure_index(advisor)
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
        shared.fail(str(exc))
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
    from ..answer.llm import LLMError
    from ..evals.judge import JUDGES, build_judge

    if kind not in JUDGES:
        shared.fail(f"unknown judge {kind!r}: choose {', '.join(JUDGES)}")
    try:
        return build_judge(settings)
    except LLMError:
        shared.fail(
            "the judge is not configured: set ADVISOR_JUDGE_MODEL and ADVISOR_JUDGE_BASE_URL (or an API key)"
        )
        raise  # unreachable


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
    from ..bench.run import BenchConfig, run_bench

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

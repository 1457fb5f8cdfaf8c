"""One eval run end to end: load the set, answer every question (advisor and baselines), write the report.

The CLI and the tests call `run_suite`; it holds no metric logic of its own.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..retrieve.hybrid import Mode
from . import answer_metrics
from .charts import write_charts
from .dataset import load_dataset, resolve_sources
from .gate import GateResult, check, load_thresholds
from .judge import JUDGED_METRICS
from .report import judged_table, metric_counts, summary_text, write_report, write_split_index
from .runner import ALL_METRICS, MODES, flatten, latency, run_eval, summarize

if TYPE_CHECKING:
    from ..core import Advisor
    from .judge import Judge

ROWS_FILE = "rows.jsonl"


@dataclass(frozen=True)
class SuiteResult:
    """What a caller prints or checks after a run."""

    summary: dict[str, Any]
    latency: dict[str, Any]
    rows: list[dict[str, Any]]
    table: str
    warnings: list[str]
    gate: GateResult | None
    reused: int
    seconds: float


def run_suite(
    advisor: Advisor,
    dataset: Path,
    out: Path,
    *,
    backend: str | None = None,
    baselines: bool = True,
    resume: bool = False,
    gate: Path | None = None,
    progress: Callable[[int], Callable[[dict[str, Any], bool], None]] | None = None,
    command: str = "",
    judge: Judge | None = None,
) -> SuiteResult:
    """Evaluate `dataset` into `out`; `progress(total)` returns the per-row callback (a progress bar).

    Raises DatasetError for an unusable dataset and GateError for an unusable thresholds file, before any
    question is asked.
    """
    started = time.perf_counter()
    items = load_dataset(dataset)
    thresholds = load_thresholds(gate) if gate is not None else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        items = resolve_sources(items, advisor.sources())
    notes = [str(w.message) for w in caught]
    modes: Sequence[Mode] = MODES if baselines else ("hybrid",)
    rows_path = out / ROWS_FILE
    reused = 0

    def on_row(row: dict[str, Any], was_reused: bool) -> None:
        nonlocal reused
        reused += was_reused
        if callback is not None:
            callback(row, was_reused)

    callback = progress(len(items)) if progress is not None else None
    advisor.warm_up()
    rows = run_eval(
        advisor,
        items,
        rows_path,
        modes=modes,
        backend=backend,
        resume=resume,
        prompt_markers=answer_metrics.prompt_markers(advisor.settings.prompts_dir),
        on_row=on_row,
        judge=judge,
    )
    flat = flatten(rows)
    summary = summarize(flat, ALL_METRICS + (JUDGED_METRICS if judge else ()))
    lat = latency(rows)
    counts = metric_counts(flat)
    verdict = check(thresholds, summary, lat) if thresholds is not None else None
    seconds = time.perf_counter() - started
    meta = {
        "dataset": str(dataset),
        "items": len(items),
        "backend": backend or advisor.settings.llm_backend,
        "modes": list(modes),
        "seconds": round(seconds, 1),
        "reused_rows": reused,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command or f"advisor eval --dataset {dataset} --out {out}",
        "warnings": notes,
        **({"judge": judge.name} if judge else {}),
    }
    charts = write_charts(out, summary, rows)
    write_report(
        out,
        summary,
        rows,
        meta,
        latency=lat,
        counts=counts,
        charts=charts,
        gate=verdict.to_dict(gate) if verdict is not None and gate is not None else None,
    )
    table = summary_text(summary, counts, lat) + (f"\n\n{judged_table(summary, judge.name)}" if judge else "")
    return SuiteResult(summary, lat, rows, table, notes, verdict, reused, seconds)


@dataclass(frozen=True)
class SplitRun:
    """One named dataset of a multi-split run (dev, test, …), its own folder under the run's out."""

    name: str
    dataset: Path
    gate: Path | None = None


def run_splits(
    advisor: Advisor,
    splits: Sequence[SplitRun],
    out: Path,
    *,
    backend: str | None = None,
    baselines: bool = True,
    resume: bool = False,
    progress: Callable[[int], Callable[[dict[str, Any], bool], None]] | None = None,
    command: str = "",
    judge: Judge | None = None,
) -> dict[str, SuiteResult]:
    """Evaluate each split into `out/<name>/` and write `out/report.md` with the splits side by side.

    One split writes straight into `out` (its report is the report). Tune on dev, report on test: the gate
    of a split applies to that split only.
    """
    if len(splits) == 1:
        only = splits[0]
        result = run_suite(
            advisor,
            only.dataset,
            out,
            backend=backend,
            baselines=baselines,
            resume=resume,
            gate=only.gate,
            progress=progress,
            command=command,
            judge=judge,
        )
        return {only.name: result}
    results: dict[str, SuiteResult] = {}
    for split in splits:
        results[split.name] = run_suite(
            advisor,
            split.dataset,
            out / split.name,
            backend=backend,
            baselines=baselines,
            resume=resume,
            gate=split.gate,
            progress=progress,
            command=command,
            judge=judge,
        )
    write_split_index(out, [(s.name, s.dataset, results[s.name]) for s in splits], command)
    return results

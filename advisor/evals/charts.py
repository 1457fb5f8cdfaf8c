"""PNG charts of an eval run (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .runner import MODES

_COLOURS = {"hybrid": "#1f77b4", "dense": "#ff7f0e", "bm25": "#2ca02c"}
_LABELS = {"hybrid": "advisor", "dense": "dense only", "bm25": "BM25 only"}
_OVERALL = (
    "hit@1",
    "recall@5",
    "mrr",
    "fact_coverage_answer",
    "fact_coverage_cited",
    "citation_precision",
    "refusal_accuracy",
    "false_refusal_rate",
    "language_match",
)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _bars(ax: Any, values: dict[str, list[float]], names: list[str]) -> None:
    """Grouped bars: one group per name, one bar per mode (advisor and the baselines)."""
    width = 0.8 / max(len(values), 1)
    for i, (mode, row) in enumerate(values.items()):
        xs = [x + (i - (len(values) - 1) / 2) * width for x in range(len(names))]
        ax.bar(xs, row, width, label=_LABELS[mode], color=_COLOURS[mode])
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.grid(axis="y", alpha=0.3)


def _group_values(summary: dict[str, Any], groups: list[str], metric: str) -> dict[str, list[float]]:
    return {m: [summary[m].get(g, {}).get(metric) or 0.0 for g in groups] for m in MODES if m in summary}


def metrics_chart(summary: dict[str, Any], path: Path) -> Path:
    """Overall metrics, advisor against the baselines."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10, 4))
    values: dict[str, list[float]] = {
        m: [summary[m]["all"].get(name) or 0.0 for name in _OVERALL] for m in MODES if m in summary
    }
    _bars(ax, values, list(_OVERALL))
    ax.set_title(
        "All questions: advisor vs. single-retriever baselines (false_refusal_rate: lower is better)"
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def groups_chart(summary: dict[str, Any], path: Path) -> Path:
    """recall@5 and key-fact coverage per language and per question type, against the baselines."""
    plt = _pyplot()
    groups = [g for g in summary.get("hybrid", {}) if g.split(":")[0] in ("lang", "cross-lingual", "type")]
    names = [g.replace("type:", "").replace("lang:", "lang ") for g in groups]
    fig, axes = plt.subplots(2, 1, figsize=(11, 7), sharex=True)
    _bars(axes[0], _group_values(summary, groups, "recall@5"), names)
    axes[0].set_title("recall@5 by language and question type")
    axes[0].legend(fontsize=8)
    _bars(axes[1], _group_values(summary, groups, "fact_coverage_cited"), names)
    axes[1].set_title("key facts in the answer or its cited passages")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def latency_chart(rows: list[dict[str, Any]], path: Path) -> Path:
    """Distribution of per-question latency: total per mode, and each stage for advisor."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    modes = [m for m in MODES if any(m in r["modes"] for r in rows)]
    totals = [
        [
            r["modes"][m]["timings_ms"].get("total", 0.0)
            for r in rows
            if r["modes"].get(m, {}).get("timings_ms")
        ]
        for m in modes
    ]
    if any(totals):
        axes[0].boxplot(totals, tick_labels=[_LABELS[m] for m in modes])
    axes[0].set_ylabel("ms per question")
    axes[0].set_title("total latency per question")
    for stage in ("retrieve", "generate"):
        values = [
            r["modes"]["hybrid"]["timings_ms"].get(stage, 0.0)
            for r in rows
            if r["modes"].get("hybrid", {}).get("timings_ms")
        ]
        if values:
            axes[1].hist(values, bins=20, alpha=0.6, label=stage)
    axes[1].set_xlabel("ms")
    axes[1].set_title("advisor: time per stage")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def refusal_curves(rows: list[dict[str, Any]]) -> dict[str, list[tuple[float, float, float]]]:
    """Per question language: (threshold, answerable refused, unanswerable refused) as the threshold moves.

    Uses the reader's answerability of each advisor answer; the gate refuses below 0.5.
    """
    scores: dict[str, dict[bool, list[float]]] = {}
    for row in rows:
        result = row["modes"].get("hybrid", {})
        value = result.get("answerability")
        if value is None or result.get("error"):
            continue
        scores.setdefault(row["lang"], {True: [], False: []})[bool(row["answerable"])].append(float(value))
    curves: dict[str, list[tuple[float, float, float]]] = {}
    for lang, by in sorted(scores.items()):
        if not by[True] or not by[False]:
            continue
        points = []
        for step in range(101):
            t = step / 100
            points.append(
                (
                    t,
                    sum(v < t for v in by[True]) / len(by[True]),
                    sum(v < t for v in by[False]) / len(by[False]),
                )
            )
        curves[lang] = points
    return curves


def refusal_chart(rows: list[dict[str, Any]], path: Path) -> Path | None:
    """Refusal of unanswerable questions against false refusal of answerable ones, per language."""
    curves = refusal_curves(rows)
    if not curves:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    for lang, points in curves.items():
        ax.plot([p[1] for p in points], [p[2] for p in points], label=f"{lang} questions")
        at = min(points, key=lambda p: abs(p[0] - 0.5))
        ax.scatter([at[1]], [at[2]], zorder=3)
        ax.annotate("0.5", (at[1], at[2]), textcoords="offset points", xytext=(5, -10), fontsize=8)
    ax.set_xlabel("answerable questions refused")
    ax.set_ylabel("unanswerable questions refused")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.set_title("Refusal trade-off as the reader's threshold moves (dot: the gate)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_charts(out: Path, summary: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    """All charts of a run, written into `out`; returns their file names (for report.md)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [
        metrics_chart(summary, out / "metrics_overall.png"),
        groups_chart(summary, out / "metrics_by_group.png"),
        latency_chart(rows, out / "latency.png"),
        refusal_chart(rows, out / "refusal_tradeoff.png"),
    ]
    return [p.name for p in paths if p is not None]

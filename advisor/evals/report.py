"""Write an eval run to disk: report.json (machine-readable), report.md (for people), rows.jsonl (per question)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .runner import MODES, RETRIEVAL_METRICS

_LABELS = {"hybrid": "advisor (hybrid)", "dense": "dense only (e5)", "bm25": "BM25 only"}


def retrieval_table(summary: dict[str, Any]) -> str:
    """A Markdown table: one row per group, each metric shown for advisor and both baselines."""
    groups = list(summary.get("hybrid", {}))
    header = (
        "| group | n | "
        + " | ".join(f"{m} ({_LABELS[mode]})" for m in RETRIEVAL_METRICS for mode in MODES)
        + " |"
    )
    lines = [header, "|" + "---|" * (2 + len(RETRIEVAL_METRICS) * len(MODES))]
    for group in groups:
        cells = [group, str(summary["hybrid"][group]["n"])]
        for metric in RETRIEVAL_METRICS:
            for mode in MODES:
                value = summary.get(mode, {}).get(group, {}).get(metric)
                cells.append("—" if value is None else f"{value:.3f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_report(
    out: Path, summary: dict[str, Any], rows: Sequence[dict[str, Any]], meta: dict[str, Any]
) -> None:
    """Everything a reader needs to judge a run, in one folder."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(
        json.dumps({"meta": meta, "retrieval": summary}, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    with (out / "rows.jsonl").open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    text = [
        "# advisor eval report",
        "",
        f"Dataset: `{meta['dataset']}` — {meta['items']} questions. Reproduce: `{meta['command']}`",
        "",
        "## Retrieval (top 5), advisor beside the simpler baselines",
        "",
        retrieval_table(summary),
        "",
    ]
    (out / "report.md").write_text("\n".join(text), encoding="utf-8")

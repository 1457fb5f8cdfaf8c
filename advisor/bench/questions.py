"""The bench's questions: short retrieval probes, and the long realistic advice questions of the eval sets."""

from __future__ import annotations

import json
from pathlib import Path

from ..config import REPO_ROOT

EVALS = REPO_ROOT / "evals"


def _rows(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def bench_questions(evals: Path = EVALS) -> dict[str, list[str]]:
    """{"probes": short checks (retrieval_check), "advice": the advice questions of golden + client sets}."""
    probes = [str(r["question"]) for r in _rows(evals / "retrieval_check.jsonl")]
    advice = [
        str(r["question"])
        for name in ("golden.jsonl", "client.jsonl")
        for r in _rows(evals / name)
        if r.get("type") == "advice"
    ]
    return {"probes": probes, "advice": advice}

"""`advisor eval` end to end on a tiny set: real models, real index, the real command (slow)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from advisor.cli import app

pytestmark = pytest.mark.slow

TINY = [
    {"id": "t-zh", "lang": "zh", "question": "产业集聚和产业集群有什么区别？", "type": "comparison",
     "answerable": True, "gold_sources": ["004_9916761da858ca01.txt"], "gold_quotes": ["地理上的集中"],
     "key_facts": [["地理上的集中"]]},
    {"id": "t-en", "lang": "en", "question": "What is the three-step method for building an industrial ecosystem chain?",
     "type": "factual", "answerable": True, "gold_sources": ["industrial-ecosystem-chain-operations", "missing.txt"],
     "gold_quotes": ["第一步先绘制产业基因图谱"], "key_facts": [["基因图谱", "gene map"]]},
    {"id": "t-na", "lang": "en", "question": "How do I bake sourdough bread?", "type": "unanswerable",
     "answerable": False},
    {"id": "t-garbage", "lang": "en", "question": "???", "type": "garbage", "answerable": False},
]  # fmt: skip


def test_eval_writes_report_charts_and_rows_then_resumes_and_gates(
    real_advisor: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADVISOR_HOME", str(real_advisor.settings.home))
    dataset = tmp_path / "tiny.jsonl"
    dataset.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in TINY), encoding="utf-8")
    passing, failing = tmp_path / "pass.toml", tmp_path / "fail.toml"
    passing.write_text('[min]\n"recall@5" = 0.5\nrefusal_accuracy = 1.0\n', encoding="utf-8")
    failing.write_text('[min]\n"hit@1" = 1.01\n', encoding="utf-8")
    out = tmp_path / "out"
    args = ["eval", "--dataset", str(dataset), "--out", str(out)]

    first = CliRunner().invoke(app, [*args, "--gate", str(passing)])
    assert first.exit_code == 0, first.output
    assert "recall@5" in first.output and "gate passed" in first.output
    assert "unknown gold source(s) missing.txt" in first.output
    for name in (
        "report.md",
        "report.json",
        "rows.jsonl",
        "metrics_overall.png",
        "metrics_by_group.png",
        "latency.png",
    ):
        assert (out / name).stat().st_size > 0, name
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["meta"]["items"] == 4 and report["gate"]["passed"]
    hybrid = report["headline"]["hybrid"]
    assert hybrid["recall@5"] == 1.0  # the seed file name resolved to its document
    assert hybrid["refusal_accuracy"] == 1.0  # bread refused, "???" rejected as input
    rows = [json.loads(line) for line in (out / "rows.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["t-zh", "t-en", "t-na", "t-garbage"]
    assert set(rows[0]["modes"]) == {"hybrid", "dense", "bm25"}
    assert rows[0]["modes"]["hybrid"]["answer"] and rows[0]["modes"]["hybrid"]["retrieved"]
    text = (out / "report.md").read_text(encoding="utf-8")
    assert text.index("## Headline") < text.index("## By question type") < text.index("## Failures")

    second = CliRunner().invoke(app, [*args, "--resume", "--gate", str(failing)])
    assert second.exit_code == 1
    assert "4 rows reused" in second.output
    assert "hit@1" in second.output and "below the minimum 1.01" in second.output

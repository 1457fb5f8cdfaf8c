"""The optional LLM judge: claims, the rubric's usable rule, and `advisor eval --judge openai` against a scripted
judge served over real HTTP by the fake server on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from advisor.cli import app
from advisor.config import Settings
from advisor.core import Advisor
from advisor.embed.fake import HashEmbedder
from advisor.evals import judge
from advisor.evals.dataset import Item
from advisor.schema import Answer, Chunk, Citation, Passage, Verdict

from .fakes.openai_server import FakeLLMServer, Reply, Request

JUDGE_KEY = "sk-judge-DO-NOT-LEAK-77a1"
TINY = [
    {"id": "j-zh", "lang": "zh", "question": "产业集聚和产业集群有什么区别？", "type": "comparison",
     "answerable": True, "key_facts": [["地理上的集中"]], "ideal": "集聚是地理集中，集群是有组织的网络。"},
    {"id": "j-en", "lang": "en", "question": "How should a small supplier join an industrial cluster?",
     "type": "advice", "answerable": True, "key_facts": [["position", "定位"]]},
]  # fmt: skip
RUBRIC = {"relevance": 3, "actionability": 1, "faithfulness": 3, "completeness": 2, "language_fit": 3}


def answer(text: str, cited: int = 2, refused: bool = False) -> Answer:
    citations = tuple(
        Citation(n, Passage(Chunk(f"d:{n}", "d", "T", "zh", f"段落{n}。", n, "corpus/d.md", 1, 1), 1.0))
        for n in range(1, cited + 1)
    )
    return Answer("q", "en", text, refused, "openai", citations, (), {})


def item(kind: str = "advice") -> Item:
    return Item("x", "en", "How should a park grow its cluster?", kind, True)


# --- the small steps --------------------------------------------------------------------------------


def test_claims_are_sentences_with_the_passages_they_cite() -> None:
    text = "Steps:\n1. Map the chain, e.g. by sector [1].\nCosts fell 1.5 times in Suzhou. [2]\nIt works [9]."
    found = judge.claims(answer(text))
    assert [c.text for c in found] == [
        "1. Map the chain, e.g. by sector [1].",
        "Costs fell 1.5 times in Suzhou. [2]",
        "It works [9].",
    ]  # the lead-in "Steps:" is no claim
    assert [[c.n for c in claim.cited] for claim in found] == [[1], [2], []]  # [9] names no citation


def test_usable_follows_the_rubric() -> None:
    good = {"relevance": 3, "actionability": 2, "faithfulness": 2, "completeness": 1, "language_fit": 3}
    assert judge.usable(item("advice"), answer("x"), good) == 1.0
    assert judge.usable(item("advice"), answer("x"), {**good, "actionability": 1}) == 0.0
    assert judge.usable(item("comparison"), answer("x"), {**good, "actionability": 0}) == 1.0
    assert judge.usable(item("advice"), answer("x", refused=True), {**good, "actionability": None}) == 1.0
    assert judge.usable(item(), answer("x"), {**good, "faithfulness": None}) == 0.0  # N/A is not support
    assert judge.usable(item(), answer("x"), {**good, "relevance": None}) is None


def test_a_reply_is_read_from_prose_or_fences_or_not_at_all() -> None:
    assert judge.parse_reply('Sure!\n```json\n{"score": 2}\n```') == {"score": 2}
    assert judge.parse_reply("I'd give it a 2.") is None and judge.parse_reply("[1, 2]") is None
    assert [judge.score(v) for v in (0, 3, 4, -1, True, "2", None)] == [0, 3, None, None, None, None, None]


# --- advisor eval --judge openai -----------------------------------------------------------------------


def scripted_judge(request: Request) -> Reply:
    """Claim 1 unsupported and the rest supported; relevance 2 of 3; the RUBRIC scores. Replies come the way
    judges write them: after their thinking, in a code fence."""
    prompt = request.prompt
    if "<claims>" in prompt:
        n = prompt.count("<claim n=")
        verdicts = [{"claim": i, "supported": i > 1, "reason": "checked"} for i in range(1, n + 1)]
        return Reply("<think>Okay, the user wants verdicts.</think>" + json.dumps({"verdicts": verdicts}))
    if "<rubric>" in prompt:
        return Reply("```json\n" + json.dumps({**RUBRIC, "reason": "ok"}) + "\n```")
    return Reply(json.dumps({"score": 2, "reason": "partly"}))


@pytest.fixture
def judged_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLLMServer]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    with FakeLLMServer(responder=scripted_judge) as fake:
        monkeypatch.setenv("ADVISOR_JUDGE_BASE_URL", fake.openai_url)
        monkeypatch.setenv("ADVISOR_JUDGE_MODEL", "fake-judge-7b")
        monkeypatch.setenv("ADVISOR_JUDGE_API_KEY", JUDGE_KEY)
        yield fake


@pytest.fixture
def eval_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[CliRunner, list[str], Path]:
    """`advisor eval` in-process on a hash-embedded index whose evidence check always answers."""
    import advisor.cli.shared

    shared = Advisor(Settings(home=tmp_path / "home"), embedders=[HashEmbedder()])
    shared.ingest()
    shared.gate = lambda *a, **k: Verdict(True)
    monkeypatch.setattr(advisor.cli.shared, "open_advisor", lambda settings: shared)
    dataset, out = tmp_path / "tiny.jsonl", tmp_path / "out"
    dataset.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in TINY), encoding="utf-8")
    return CliRunner(), ["eval", "--dataset", str(dataset), "--out", str(out), "--no-baselines"], out


@pytest.mark.integration
def test_eval_with_a_judge_writes_judged_columns_and_the_judges_name(
    judged_server: FakeLLMServer, eval_cli: tuple[CliRunner, list[str], Path]
) -> None:
    runner, args, out = eval_cli
    result = runner.invoke(app, [*args, "--judge", "openai"])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["meta"]["judge"] == "fake-judge-7b"
    rows = [json.loads(line) for line in (out / "rows.jsonl").read_text(encoding="utf-8").splitlines()]
    for row in rows:
        judged, metrics = row["modes"]["hybrid"]["judge"], row["modes"]["hybrid"]["metrics"]
        raw = judged["faithfulness"]["raw"]  # the judge's reply as it wrote it, less its thinking
        assert judged["model"] == "fake-judge-7b" and "Okay, the user" not in raw
        assert judged["rubric"]["raw"].startswith("```json") and judged["rubric"]["prompt"].startswith(
            "judge_rubric."
        )
        n = len(json.loads(raw)["verdicts"])
        assert n >= 1 and metrics["judge_faithfulness"] == pytest.approx((n - 1) / n)
        assert metrics["judge_relevance"] == pytest.approx(2 / 3) and metrics["rubric_actionability"] == 1.0
    headline = report["headline"]["hybrid"]
    assert headline["rubric_relevance"] == 3.0 and headline["rubric_usable"] == 0.5
    by_type = report["summary"]["hybrid"]
    assert by_type["type:advice"]["rubric_usable"] == 0.0  # actionability 1 fails an advice answer
    assert by_type["type:comparison"]["rubric_usable"] == 1.0  # …and does not gate a comparison
    text = (out / "report.md").read_text(encoding="utf-8")
    assert "## Judged by an LLM" in text and "Judged by `fake-judge-7b`" in text
    assert "| all | 2 | " in text and "| advice | 1 | " in text
    assert "claims supported by their cited passages" in text and "rubric: usable answers" in text
    assert "fake-judge-7b" in result.output  # the printed table says who judged too
    sent = judged_server.requests[0]
    assert sent.body["model"] == "fake-judge-7b" and sent.body["temperature"] == 0
    assert sent.headers["authorization"] == f"Bearer {JUDGE_KEY}" and not sent.body.get("stream")
    assert len(judged_server.requests) == 3 * len(TINY)  # faithfulness, relevance, rubric per answer
    assert JUDGE_KEY not in text + json.dumps(report) + result.output


@pytest.mark.integration
def test_without_a_judge_nothing_is_judged(
    judged_server: FakeLLMServer, eval_cli: tuple[CliRunner, list[str], Path]
) -> None:
    runner, args, out = eval_cli
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert "judge" not in report["meta"] and "rubric_usable" not in report["headline"]["hybrid"]
    assert "Judged" not in (out / "report.md").read_text(encoding="utf-8")
    assert judged_server.requests == []


def test_an_unknown_or_unconfigured_judge_is_a_clear_error(
    eval_cli: tuple[CliRunner, list[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    runner, args, _ = eval_cli
    result = runner.invoke(app, [*args, "--judge", "claude"])
    assert result.exit_code == 2 and "unknown judge 'claude'" in result.output
    result = runner.invoke(app, [*args, "--judge", "openai"])
    assert result.exit_code == 2 and "ADVISOR_JUDGE_MODEL" in result.output

"""The retrieval inspector: per-channel rankings only when asked, the rewrite, the gate's reasons, `advisor search`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from advisor.answer.question import prepare_question
from advisor.answer.reasons import gate_reasons
from advisor.i18n import t
from advisor.schema import Question, Retrieval, Verdict
from advisor.web import inspector
from tests.fakes.core import FakeCore


def test_a_question_answered_normally_records_no_trace(corpus_advisor: Any) -> None:
    retrieval = corpus_advisor.retrieve(prepare_question("产业集群是什么？", 1000))
    assert retrieval.passages and retrieval.trace is None


def test_explain_keeps_every_channel_per_language_and_the_fused_ranking(corpus_advisor: Any) -> None:
    inspection = corpus_advisor.explain("产业集群和产业集聚有什么区别？", depth=4)
    trace = inspection.retrieval.trace
    assert trace is not None
    sources = {(c.source, c.lang) for c in trace.channels}
    assert {("hash-64", "zh"), ("hash-64", "en"), ("bm25", "zh")} <= sources
    assert all(0 < len(c.ranked) <= 4 for c in trace.channels)
    bm25 = next(c for c in trace.channels if c.source == "bm25")
    assert bm25.weight == pytest.approx(0.6) and bm25.ranked[0][1] >= bm25.ranked[-1][1] > 0
    assert 0 < len(trace.fused) <= 4 and trace.fused[0].score == max(p.score for p in trace.fused)
    assert inspection.search.text == inspection.question.text and inspection.reasons


def test_a_follow_up_is_inspected_as_its_rewrite(corpus_advisor: Any) -> None:
    inspection = corpus_advisor.explain("那第二种呢？", history=[("产业生态有哪两种构建路径？", "")], depth=2)
    assert inspection.search.text != inspection.question.text and "产业生态" in inspection.search.text


def test_without_a_reader_the_gate_says_so_and_names_unknown_names() -> None:
    verdict = Verdict(False, "low_similarity", ("Wuhan",))
    reasons = gate_reasons(Question("How many firms in Wuhan?", "en"), Retrieval(()), verdict)
    said = [t("en", r.key, **r.values) for r in reasons]
    assert said[0].startswith("no reader loaded")
    assert "names the documents never mention: Wuhan" in said


def test_the_reader_gate_says_its_probability_and_the_missing_parts() -> None:
    verdict = Verdict(True, answerability=0.81, not_covered=("怎么融资？",))
    reasons = gate_reasons(Question("是什么？怎么融资？", "zh"), Retrieval(()), verdict)
    said = [t("zh", r.key, **r.values) for r in reasons]
    assert said == ["阅读模型的最高概率 0.81（≥ 0.5 才回答）", "资料未回答的部分：怎么融资？"]


def test_the_inspector_tab_shows_the_rewrite_verdict_reasons_and_every_channel() -> None:
    from advisor.web.chat import Conversation

    core = FakeCore()
    earlier = Conversation().upto(0)
    out = inspector.inspect(core, "and <b>the second</b>?", False, earlier, "en")["inspect_out"]
    assert "refuse (not covered)" in out and "the reader&#x27;s best probability is 0.2" in out
    assert "e5 · en · weight 1.0" in out and "bm25 · en · weight 0.6" in out and "7.500" in out
    assert "<b>the second</b>" not in out  # the question is escaped
    assert core.calls[-1] == ("and <b>the second</b>?", ())


def test_the_inspector_can_read_a_question_as_a_follow_up_of_the_chat() -> None:
    from advisor.conversations import Exchange
    from advisor.web.chat import Conversation
    from tests.fakes.core import answer

    core = FakeCore()
    chat = Conversation((Exchange("What is a cluster?", answer()),))
    out = inspector.inspect(core, "and its suppliers?", True, chat, "en")["inspect_out"]
    assert core.calls[-1][1] == (("What is a cluster?", "Clusters share suppliers.[1]"),)
    assert "rewritten from the follow-up “and its suppliers?”" in out


def test_advisor_search_explain_json(corpus_advisor: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from advisor import cli

    monkeypatch.setattr(cli.shared, "open_advisor", lambda settings: corpus_advisor)
    out = CliRunner().invoke(cli.app, ["search", "--explain", "--json", "--depth", "3", "什么是产业生态？"])
    assert out.exit_code == 0, out.output
    row = json.loads(out.stdout)
    assert row["decision"] in ("answer", "partial", "refuse") and row["reasons"]
    assert {c["source"] for c in row["channels"]} >= {"hash-64", "bm25"}
    assert all(len(c["ranked"]) <= 3 for c in row["channels"]) and len(row["fused"]) <= 3
    plain = CliRunner().invoke(cli.app, ["search", "什么是产业生态？"])
    assert plain.exit_code == 0 and "bm25" not in plain.stdout  # the channels only with --explain
    assert CliRunner().invoke(cli.app, ["search", "？？？"]).exit_code == 2

"""Feedback on answers, stored in SQLite under ADVISOR_HOME; `advisor feedback` lists it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli import app
from advisor.config import Settings
from advisor.feedback import FeedbackStore


def test_records_are_listed_newest_first(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "f.sqlite")
    assert store.list() == []
    first = store.record(
        "up", "什么是产业集群？", "产业集群是…[1]", citations=[{"n": 1, "location": "corpus/a.md:3"}]
    )
    second = store.record("down", "Q2", "A2", refused=True, lang="en")
    records = store.list()
    assert [r.id for r in records] == [second, first]
    assert records[1].citations == [{"n": 1, "location": "corpus/a.md:3"}] and records[0].refused
    assert [r.id for r in store.list(rating="up")] == [first]
    assert len(store.list(limit=1)) == 1


@pytest.mark.parametrize(("rating", "question"), [("meh", "q"), ("up", "  ")])
def test_bad_feedback_is_refused(tmp_path: Path, rating: str, question: str) -> None:
    with pytest.raises(ValueError):
        FeedbackStore(tmp_path / "f.sqlite").record(rating, question, "a")


def test_cli_lists_feedback(isolated_home: Path) -> None:
    runner = CliRunner()
    assert "no feedback yet" in runner.invoke(app, ["feedback"]).output
    FeedbackStore(Settings().feedback_path).record("down", "武汉光谷有多少家光电子企业？", "抱歉…")
    result = runner.invoke(app, ["feedback", "--json"])
    assert result.exit_code == 0
    row = json.loads(result.output.splitlines()[0])
    assert row["rating"] == "down" and row["question"].startswith("武汉")
    assert runner.invoke(app, ["feedback", "--rating", "meh"]).exit_code == 2

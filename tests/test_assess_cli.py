"""`advisor assess` as a user runs it: scripted and interactive, JSON, saving, and bad answers files (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from advisor import cli
from advisor.assess.framework import DEFAULT_DIR

from .test_cli import run

EXAMPLE = DEFAULT_DIR / "examples" / "park-agglomeration.yaml"


@pytest.fixture
def invoke(corpus_advisor: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run `advisor assess …` in-process over the hash-embedded corpus index; returns the Result."""

    def advisor_for(settings: Any) -> Any:
        monkeypatch.setattr(corpus_advisor, "settings", settings)  # this test's ADVISOR_HOME, for saving
        return corpus_advisor

    monkeypatch.setattr(cli.shared, "open_advisor", advisor_for)
    runner = CliRunner()
    return lambda *args, stdin=None: runner.invoke(cli.app, ["assess", *args], input=stdin)


def test_an_answers_file_writes_the_four_files_and_saves_it(
    invoke: Any, tmp_path: Path, isolated_home: Path
) -> None:
    out = tmp_path / "report"
    result = invoke("--answers", str(EXAMPLE), "--out", str(out), "--save", "Park A 2024")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["radar.png", "report.docx", "report.md", "report.pdf"]
    assert "产业集聚" in (out / "report.md").read_text(encoding="utf-8")
    assert (isolated_home / "assessments" / "park-a-2024.json").is_file()
    listed = invoke("list", "--json")
    assert [json.loads(line)["id"] for line in listed.output.splitlines()] == ["park-a-2024"]


def test_json_gives_the_structured_result(invoke: Any) -> None:
    result = invoke("--answers", str(EXAMPLE), "--json", "--lang", "en")
    data = json.loads(result.output)
    assert data["lang"] == "en" and data["stage"]["id"] == "agglomeration"
    assert {"dimensions", "gaps", "actions", "indicators", "not_judged", "citations", "answers"} <= set(data)
    assert data["not_judged"]["questions"] == ["dynamic_evaluation"]


def test_without_out_the_report_is_shown_in_the_terminal(invoke: Any) -> None:
    result = invoke("--answers", str(DEFAULT_DIR / "examples" / "park-mature-cluster.yaml"))
    assert result.exit_code == 0 and "Mature cluster" in result.output and "Sources" in result.output


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ("kind: park\nanswers:\n  chain_collaboration: maybe\n", "answers.chain_collaboration"),
        ("kind: park\nanswers:\n  value_density: 900\n", "answers.value_density"),
        ("kind: park\nanswers:\n  value_density: lots\n", "answers.value_density"),
        ("kind: park\nanswers:\n  no_such_question: yes\n", "answers.no_such_question"),
        ("kind: park\nanswerz: {}\n", "answerz"),
        ("kind: [park\n", "not valid YAML"),
    ],
)
def test_a_bad_answers_file_exits_2_naming_the_key_and_writes_nothing(
    invoke: Any, tmp_path: Path, isolated_home: Path, content: str, named: str
) -> None:
    bad = tmp_path / "answers.yaml"
    bad.write_text(content, encoding="utf-8")
    out = tmp_path / "report"
    result = invoke("--answers", str(bad), "--out", str(out), "--save", "x")
    assert result.exit_code == 2 and named in result.output and "Traceback" not in result.output
    assert not out.exists() and not (isolated_home / "assessments").exists()


def test_a_missing_answers_file_exits_2(invoke: Any, tmp_path: Path) -> None:
    result = invoke("--answers", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2 and "not found" in result.output


def test_the_interview_asks_every_question_and_enter_skips(invoke: Any) -> None:
    from advisor.assess.framework import load_frameworks

    questions = len(load_frameworks()["enterprise"].criteria)
    replies = ["3", "en", "y", "maybe", "p", "", "", "9", "2"] + [""] * questions
    result = invoke("--json", stdin="\n".join(replies) + "\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("Why we ask:") == questions and "corpus/" in result.output
    assert "expected yes, partly or no" in result.output  # a bad reply is asked again
    data = json.loads(result.output[result.output.index("{\n") :])
    assert data["kind"] == "enterprise" and data["lang"] == "en"
    given = {a["id"]: a["answer"] for a in data["answers"] if a["answer"] is not None}
    assert given == {"chain_position": "yes", "core_capability": "partly", "mindset": "mixed"}
    assert "1–3" in result.output and "expected one of" in result.output  # option 9 of 3 is asked again


def test_show_and_compare_saved_assessments(invoke: Any) -> None:
    assert invoke("--answers", str(EXAMPLE), "--save", "a").exit_code == 0
    mature = DEFAULT_DIR / "examples" / "park-mature-cluster.yaml"
    assert invoke("--answers", str(mature), "--save", "b").exit_code == 0
    shown = invoke("show", "a", "--json")
    assert json.loads(shown.output)["stage"]["id"] == "agglomeration"
    compared = json.loads(invoke("compare", "a", "b", "--json").output)
    linkage = next(d for d in compared["dimensions"] if d["id"] == "linkage")
    assert linkage["change"] == 70.0 and compared["b"]["stage"] == "mature_cluster"
    assert invoke("show", "nobody").exit_code == 2


@pytest.mark.slow
def test_the_real_command_writes_a_report_from_an_example(isolated_home: Path, tmp_path: Path) -> None:
    out = run("assess", "--answers", str(EXAMPLE), "--out", str(tmp_path / "r"), home=isolated_home)
    assert out.returncode == 0, out.stderr
    assert {p.name for p in (tmp_path / "r").iterdir()} == {
        "radar.png",
        "report.docx",
        "report.md",
        "report.pdf",
    }

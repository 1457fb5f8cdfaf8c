"""The `advisor` command as a user runs it: a real process, a real index, JSON on stdout, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

ADVISOR = [sys.executable, "-m", "advisor.cli"]


def run(
    *args: str, home: Path, stdin: str | None = None, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ADVISOR_HOME": str(home)}
    return subprocess.run(
        [*ADVISOR, *args], capture_output=True, text=True, env=env, input=stdin, timeout=timeout, cwd=REPO
    )


def test_help_explains_the_commands(isolated_home: Path) -> None:
    out = run("--help", home=isolated_home)
    assert out.returncode == 0
    for command in ("ingest", "ask", "sources", "chat", "setup"):
        assert command in out.stdout
    assert "--batch" in run("ask", "--help", home=isolated_home).stdout


@pytest.mark.parametrize("question", ["", "   ", "？？？!!!", "12345 ..."])
def test_empty_or_wordless_questions_exit_2_with_a_message(isolated_home: Path, question: str) -> None:
    out = run("ask", question, home=isolated_home)
    assert out.returncode == 2
    assert "advisor:" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.slow
def test_ask_builds_the_index_first_then_answers_as_json(isolated_home: Path) -> None:
    out = run("ask", "--json", "产业集聚和产业集群有什么区别？", home=isolated_home)
    assert out.returncode == 0, out.stderr
    assert "no index yet" in out.stderr
    answer = json.loads(out.stdout)
    assert set(answer) >= {
        "question",
        "lang",
        "answer",
        "refused",
        "backend",
        "citations",
        "passages",
        "timings_ms",
    }
    assert answer["lang"] == "zh" and answer["backend"] == "extractive" and not answer["refused"]
    for citation in answer["citations"]:
        assert set(citation) == {"n", "doc_id", "title", "lang", "text", "parallel_text", "location"}
        assert f"[{citation['n']}]" in answer["answer"]
    assert all("score" in p for p in answer["passages"])
    assert {"retrieve", "generate", "total"} <= set(answer["timings_ms"])
    assert set(answer["timings_ms"]) <= {
        "prepare",
        "retrieve",
        "read",
        "gate",
        "draft",
        "finish",
        "generate",
        "total",
    }

    # The human rendering shows sources, and the index is reused (no rebuild message).
    text = run("ask", "How do I tell an agglomeration from a real cluster?", home=isolated_home)
    assert text.returncode == 0 and "no index yet" not in text.stderr
    assert "Sources" in text.stdout and "[1]" in text.stdout

    listed = run("sources", "--json", home=isolated_home)
    rows = {r["doc_id"]: r for r in json.loads(listed.stdout)}
    assert rows["vcm-industrial-ecosystem-excerpt"]["chunks"] == 0
    assert rows["cluster-vs-agglomeration"]["chunks"] > 5

    batch = isolated_home / "batch.jsonl"
    batch.write_text(
        '{"id": "q1", "question": "企业如何融入产业集群？"}\n{"id": "q2", "question": ""}\nnot json\n',
        encoding="utf-8",
    )
    lines = [json.loads(x) for x in run("ask", "--batch", str(batch), home=isolated_home).stdout.splitlines()]
    assert [x["id"] for x in lines] == ["q1", "q2", 3]
    assert lines[0]["citations"] and "error" in lines[1] and "error" in lines[2]

    refused = json.loads(run("ask", "--json", "武汉光谷有多少家光电子企业？", home=isolated_home).stdout)
    assert refused["refused"] and refused["citations"] == [] and refused["passages"]


@pytest.mark.slow
def test_ingest_reports_what_changed(isolated_home: Path, tmp_path: Path) -> None:
    first = run("ingest", home=isolated_home)
    assert first.returncode == 0, first.stderr
    assert "50 added" in first.stdout or "added" in first.stdout
    second = run("ingest", home=isolated_home)
    assert " 0 added, 0 updated" in second.stdout
    missing = run("ingest", str(tmp_path / "nope"), home=isolated_home)
    assert missing.returncode == 2 and "not found" in missing.stderr


def test_a_named_file_that_cannot_be_ingested_is_an_error(isolated_home: Path, tmp_path: Path) -> None:
    bomb = tmp_path / "report.docx"
    import zipfile

    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<w:document>" + b" " * 30_000_000 + b"</w:document>")
    out = run("ingest", str(bomb), home=isolated_home)
    assert out.returncode == 2 and "report.docx: the Word file unpacks to more than" in out.stderr
    tool = tmp_path / "tool.exe"
    tool.write_bytes(b"MZ")
    out = run("ingest", str(tool), home=isolated_home)
    assert out.returncode == 2 and "tool.exe: unsupported file type .exe" in out.stderr
    assert "Traceback" not in out.stderr and not (isolated_home / "index" / "sources.json").exists()

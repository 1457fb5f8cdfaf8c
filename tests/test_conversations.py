"""Conversations kept in SQLite per owner, reopened whole, and exported as Markdown, DOCX and PDF."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest

from advisor.conversations import ConversationStore, Exchange, answer_from_json, answer_json, new_id
from advisor.export import render
from advisor.export.conversation import conversation_document
from tests.fakes.core import answer


def test_an_answer_survives_the_round_trip_whole() -> None:
    original = answer("Clusters share suppliers.[1]")
    again = answer_from_json(answer_json(original))
    assert again == original and again.citations[0].passage.chunk.location == "corpus/doc.md:3-4"


def test_each_owner_sees_only_their_own_conversations(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite")
    first = store.save("browser:a", None, [Exchange("What is a cluster?", answer())])
    store.save("user:bob", None, [Exchange("Bob's question", answer())])
    store.save(
        "browser:a", first, [Exchange("What is a cluster?", answer()), Exchange("And then?", answer())]
    )
    listed = store.list("browser:a")
    assert [(s.conversation_id, s.title, s.turns) for s in listed] == [(first, "What is a cluster?", 2)]
    reopened = store.load("browser:a", first)
    assert reopened is not None and [e.question for e in reopened.exchanges] == [
        "What is a cluster?",
        "And then?",
    ]
    assert store.load("user:bob", first) is None  # someone else's id opens nothing
    with pytest.raises(PermissionError):
        store.save("user:bob", first, [Exchange("overwrite", answer())])
    assert store.delete("user:bob", first) is False and store.delete("browser:a", first) is True


@pytest.mark.parametrize("bad", ["../../etc/passwd", "x" * 32, "", "1 OR 1=1", new_id().upper()])
def test_only_well_formed_ids_are_looked_up(tmp_path: Path, bad: str) -> None:
    store = ConversationStore(tmp_path / "c.sqlite")
    assert store.load("browser:a", bad) is None
    with pytest.raises(ValueError):
        store.save("browser:a", bad, [Exchange("q", answer())])


def test_a_stopped_exchange_is_not_kept(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite")
    kept = store.save("browser:a", None, [Exchange("q1", answer()), Exchange("q2", None, "half an ans")])
    saved = store.load("browser:a", kept)
    assert saved is not None and [e.question for e in saved.exchanges] == ["q1"]


def test_a_conversation_exports_with_its_sources_in_three_formats_that_open(tmp_path: Path) -> None:
    import docx
    from pypdf import PdfReader

    exchanges = [
        Exchange("产业集群是什么？", answer("产业集群共享供应商。[1]", lang="zh")),
        Exchange("武汉有多少家企业？", answer("抱歉", lang="zh", refused=True)),
    ]
    doc = conversation_document(exchanges, "zh", date="2025-06-30")
    files = render(doc, "conversation")
    markdown = files["conversation.md"].decode("utf-8")
    assert markdown.startswith("# 对话记录") and "## 1. 产业集群是什么？" in markdown
    assert (
        "产业集群共享供应商。[1]" in markdown and "**[1]** Cluster basics — `corpus/doc.md:3-4`" in markdown
    )
    assert "资料未覆盖" in markdown and "相关阅读" in markdown  # a refusal keeps its related reading
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(files["conversation.docx"])).paragraphs)
    assert "产业集群共享供应商。[1]" in text and "Cluster basics — corpus/doc.md:3-4" in text
    pdf = "".join(p.extract_text() for p in PdfReader(io.BytesIO(files["conversation.pdf"])).pages)
    assert "产业集群共享供应商" in "".join(pdf.split())


def test_the_store_file_is_created_on_first_use(tmp_path: Path) -> None:
    path = tmp_path / "home" / "conversations.sqlite"
    ConversationStore(path).list("browser:a")
    assert path.is_file() and not stat.S_IMODE(path.stat().st_mode) & 0o002

"""Several knowledge bases: each its own corpus, index and uploads; switching one changes which documents answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from advisor.config import Settings
from advisor.core import Advisor
from advisor.embed.fake import HashEmbedder
from advisor.knowledge import KnowledgeBaseError, KnowledgeBases, create_kb, for_kb, list_kbs
from advisor.schema import Verdict

QUESTION = "What does the park share with its suppliers?"


def hash_advisor(settings: Settings) -> Advisor:
    """A real index with the hash embedder; the gate always answers (the point is which documents answer)."""
    advisor = Advisor(settings, embedders=[HashEmbedder()])
    advisor.gate = lambda question, retrieval, vocabulary: Verdict(True)
    return advisor


@pytest.fixture
def two_bases(isolated_home: Path, tmp_path: Path) -> KnowledgeBases:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "suzhou.md").write_text(
        "# Suzhou Industrial Park\n\nThe Suzhou Industrial Park shares a customs office with its suppliers, "
        "so that parts clear in one day.\n",
        encoding="utf-8",
    )
    settings = Settings(home=isolated_home, corpus_dir=corpus)
    harbor = create_kb(settings, "harbor", "Harbor Lane")
    (harbor.corpus_dir / "harbor.md").write_text(
        "# Harbor Lane Motor Park\n\nThe Harbor Lane Motor Park shares one testing laboratory for servo motors "
        "with its suppliers.\n",
        encoding="utf-8",
    )
    default = hash_advisor(settings)
    default.ingest()
    return KnowledgeBases(settings, default, build=hash_advisor)


def cited_docs(answer: Any) -> set[str]:
    return {c.passage.chunk.doc_id for c in answer.citations}


def test_each_knowledge_base_has_its_own_corpus_index_and_uploads(isolated_home: Path) -> None:
    settings = Settings(home=isolated_home)
    harbor = for_kb(settings, "harbor")
    assert harbor.kb_corpus_dir == isolated_home / "kb" / "harbor" / "corpus"
    assert harbor.index_dir == isolated_home / "kb" / "harbor" / "index"
    assert harbor.uploads_dir == isolated_home / "kb" / "harbor" / "uploads"
    assert settings.index_dir == isolated_home / "index" and settings.kb_corpus_dir == settings.corpus_dir
    assert harbor.conversations_path == settings.conversations_path  # one history across bases
    with pytest.raises(KnowledgeBaseError):
        for_kb(settings, "../etc")
    with pytest.raises(ValueError):
        Settings(kb="Bad Name")
    # On one Chroma server, each base has collections of its own.
    shared = Settings(kb="harbor", chroma_url="http://127.0.0.1:8000")
    assert shared.collection_prefix == "kb-harbor" and settings.collection_prefix == "chunks"


def test_the_registry_lists_the_bundled_corpus_first(two_bases: KnowledgeBases) -> None:
    assert [kb.name for kb in list_kbs(two_bases.settings)] == ["", "harbor"]
    assert two_bases.choices("zh") == [("默认资料库", ""), ("Harbor Lane", "harbor")]
    with pytest.raises(KnowledgeBaseError, match="advisor kb create"):
        two_bases.core("nowhere")


def test_switching_the_knowledge_base_changes_which_documents_answer(two_bases: KnowledgeBases) -> None:
    assert cited_docs(two_bases.core("").ask(QUESTION)) == {"suzhou"}
    assert cited_docs(two_bases.core("harbor").ask(QUESTION)) == {"harbor"}


def test_on_the_page_the_chosen_base_answers_and_takes_the_uploads(
    two_bases: KnowledgeBases, tmp_path: Path
) -> None:
    from advisor.web import chat, library_tab
    from advisor.web.app import switch_kb

    switched = switch_kb(two_bases, chat.Conversation(owner="browser:x"), "harbor", "en")
    conversation = switched["conversation"]
    assert conversation.kb == "harbor" and conversation.owner == "browser:x"
    assert any("Harbor Lane" in str(row) for row in switched["table"]["value"])
    final = list(chat.ask(two_bases, None, QUESTION, conversation, "en"))[-1]
    assert "Harbor Lane Motor Park" in final["sources"] and "Suzhou" not in final["sources"]

    note = tmp_path / "dock.md"
    note.write_text(
        "# Dock Seven\n\nDock Seven lends its cranes to the suppliers of the motor park.\n", encoding="utf-8"
    )
    library_tab.upload(
        two_bases, tmp_path / "web-tmp", [str(note)], conversation, "en", None, lambda *a, **k: None
    )
    assert list((two_bases.settings.home / "kb" / "harbor" / "uploads").glob("upload-*.md"))
    assert not two_bases.settings.uploads_dir.exists()  # the default base got nothing


def test_the_api_model_chooses_the_base(two_bases: KnowledgeBases) -> None:
    from tests.test_openai_api import client, serving

    with serving(two_bases, two_bases.settings) as url:  # type: ignore[arg-type]
        reply = client(url).chat.completions.create(
            model="advisor:harbor", messages=[{"role": "user", "content": QUESTION}]
        )
    assert {c["doc_id"] for c in (reply.model_extra or {})["citations"]} == {"harbor"}


def test_advisor_ask_and_ingest_take_kb(
    two_bases: KnowledgeBases, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from advisor import cli

    monkeypatch.setenv("ADVISOR_CORPUS_DIR", str(two_bases.settings.corpus_dir))
    monkeypatch.setattr(cli.shared, "open_advisor", hash_advisor)
    runner = CliRunner()
    extra = tmp_path / "quay.md"
    extra.write_text(
        "# Quay Two\n\nQuay Two shares a rail siding with the suppliers of the park.\n", encoding="utf-8"
    )
    assert runner.invoke(cli.app, ["ingest", "--kb", "harbor", str(extra)]).exit_code == 0
    out = runner.invoke(cli.app, ["ask", "--kb", "harbor", "--json", QUESTION])
    assert out.exit_code == 0, out.output
    assert {c["doc_id"] for c in json.loads(out.stdout)["citations"]} <= {"harbor", "quay"}
    assert runner.invoke(cli.app, ["ask", "--kb", "nowhere", QUESTION]).exit_code == 2
    listed = runner.invoke(cli.app, ["kb", "list"]).stdout
    assert "(default)" in listed and "harbor\tHarbor Lane" in listed

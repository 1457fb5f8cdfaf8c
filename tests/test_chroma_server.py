"""Client/server mode: the same index and answers against a real `chroma run` server on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.config import Settings
from advisor.core import Advisor
from advisor.embed.fake import HashEmbedder

pytestmark = pytest.mark.integration


def test_ingest_and_ask_through_a_chroma_server(chroma_url: str, tmp_path: Path, corpus_copy: Path) -> None:
    settings = Settings(home=tmp_path / "a", corpus_dir=corpus_copy, chroma_url=chroma_url)
    first = Advisor(settings, embedders=[HashEmbedder()])
    report = first.ingest()
    assert report.embedded == report.chunks > 30
    assert not (tmp_path / "a" / "index" / "chroma").exists()  # nothing stored locally but the records

    # A second machine (another ADVISOR_HOME) sees the same index without ingesting anything.
    second = Advisor(Settings(home=tmp_path / "b", chroma_url=chroma_url), embedders=[HashEmbedder()])
    assert second.index.exists()
    assert {s.doc_id for s in second.sources()} >= {"cluster-vs-agglomeration", "vcm-industrial-cluster"}
    answer = second.ask("产业集聚和产业集群有什么区别？", mode="bm25")
    assert answer.passages and answer.passages[0].chunk.doc_id == "cluster-vs-agglomeration"

    # Incremental re-ingest works the same as with a local database.
    (corpus_copy / "industrial-ecosystem-chain-operations.md").unlink()
    (corpus_copy / "industrial-ecosystem-chain-operations.en.md").unlink()  # and its translation
    again = first.ingest()
    assert again.embedded == 0 and again.synced[0].deleted == 32 and not again.failed


def test_a_malformed_chroma_url_is_a_clear_error(tmp_path: Path) -> None:
    advisor = Advisor(Settings(home=tmp_path, chroma_url="localhost:8000"), embedders=[HashEmbedder()])
    with pytest.raises(ValueError, match="http://host:port"):
        advisor.index.exists()


def test_workers_on_one_server_share_uploads_and_follow_each_other(
    chroma_url: str, tmp_path: Path, corpus_copy: Path
) -> None:
    """Two workers (own HOMEs) on one Chroma server and one shared folder: an upload on one is seen by both."""
    shared = tmp_path / "shared"

    def worker(name: str) -> Advisor:
        settings = Settings(
            home=tmp_path / name,
            corpus_dir=corpus_copy,
            chroma_url=chroma_url,
            shared_dir=shared,
            index_check_s=0,
        )
        return Advisor(settings, embedders=[HashEmbedder(key="hash-shared")])

    first, second = worker("w1"), worker("w2")
    first.ingest()
    assert second.ask("共享检测平台").index_version == 1
    text = "---\nid: upload-feedfacecafe\ntitle: 光谷笔记\n---\n光谷园区设立了共享检测平台，为中小企业提供检测服务。\n"
    first.add_document("upload-feedfacecafe", text)
    assert (shared / "uploads" / "upload-feedfacecafe.md").is_file()
    second.ask("warm")
    second.follower.wait(10)
    assert second.ask("光谷园区共享检测平台", mode="bm25").passages[0].chunk.doc_id == "upload-feedfacecafe"
    second.remove_document("upload-feedfacecafe")
    first.ask("warm")
    first.follower.wait(10)
    answer = first.ask("光谷园区共享检测平台")
    assert answer.index_version == 3 and all(p.chunk.doc_id != "upload-feedfacecafe" for p in answer.passages)

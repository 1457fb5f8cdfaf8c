"""Incremental indexing on a real Chroma database (hash embedder: the model is not the point here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from advisor.config import Settings
from advisor.core import Advisor
from advisor.embed.fake import HashEmbedder
from advisor.index.store import VectorIndex


def _advisor(home: Path, corpus: Path, embedder: HashEmbedder | None = None) -> Advisor:
    return Advisor(Settings(home=home, corpus_dir=corpus), embedders=[embedder or HashEmbedder()])


def test_reingest_of_unchanged_corpus_embeds_nothing(isolated_home: Path, corpus_copy: Path) -> None:
    embedder = HashEmbedder()
    advisor = _advisor(isolated_home, corpus_copy, embedder)
    first = advisor.ingest()
    assert first.chunks > 30 and first.embedded == first.chunks
    embedder.calls.clear()
    second = _advisor(isolated_home, corpus_copy, embedder).ingest()
    assert second.embedded == 0 and second.synced[0].skipped == first.chunks
    assert sum(embedder.calls) == 0


def test_changed_file_replaces_only_its_own_chunks(isolated_home: Path, corpus_copy: Path) -> None:
    advisor = _advisor(isolated_home, corpus_copy)
    before = advisor.ingest()
    path = corpus_copy / "cluster-vs-agglomeration.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("義烏小商品", "义乌小商品城"), encoding="utf-8")
    after = advisor.ingest()
    changed = after.synced[0]
    assert changed.added == 1 and changed.deleted == 1, changed  # one chunk re-embedded, its old version gone
    assert after.chunks == before.chunks
    texts = [c.text for c in advisor.index.chunks()]
    assert any("义乌小商品城" in t for t in texts) and not any("義烏小商品" in t for t in texts)


def test_removed_file_leaves_the_index(isolated_home: Path, corpus_copy: Path) -> None:
    advisor = _advisor(isolated_home, corpus_copy)
    advisor.ingest()
    (corpus_copy / "industrial-ecosystem-chain-operations.md").unlink()
    report = advisor.ingest()
    assert report.synced[0].deleted == 32  # its 16 passages and their 16 translations
    assert any("industrial-ecosystem-chain-operations.en.md: translation of" in f for f in report.failed)
    assert "industrial-ecosystem-chain-operations" not in {c.doc_id for c in advisor.index.chunks()}
    assert "industrial-ecosystem-chain-operations" not in {s.doc_id for s in advisor.sources()}


def test_extra_paths_are_remembered_and_bad_files_reported(
    isolated_home: Path, corpus_copy: Path, tmp_path: Path
) -> None:
    extra = tmp_path / "mine"
    extra.mkdir()
    (extra / "park-notes.md").write_text(
        "# 园区笔记\n\n某园区通过建立共享中试平台，把企业新产品从样机到量产的周期缩短了一半，带动了上下游配套企业集聚。\n",
        encoding="utf-8",
    )
    (extra / "broken.txt").write_bytes(b"\x00\x00binary")
    advisor = _advisor(isolated_home, corpus_copy)
    report = advisor.ingest([extra])
    assert any("broken.txt" in line for line in report.failed)
    assert "park-notes" in {s.doc_id for s in advisor.sources()}
    # A later plain `ingest` keeps the remembered folder.
    again = _advisor(isolated_home, corpus_copy).ingest()
    assert again.embedded == 0 and "park-notes" in {s.doc_id for s in advisor.sources()}
    with pytest.raises(FileNotFoundError):
        advisor.ingest([tmp_path / "missing"])


class _Flaky(HashEmbedder):
    """Dies after embedding `budget` batches: an ingest interrupted halfway."""

    def __init__(self, budget: int) -> None:
        super().__init__()
        self.budget = budget

    def embed_passages(self, texts):  # type: ignore[no-untyped-def]
        if self.budget <= 0:
            raise KeyboardInterrupt
        self.budget -= 1
        return super().embed_passages(texts)


def test_interrupted_ingest_is_completed_by_the_next_run(
    isolated_home: Path, corpus_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(VectorIndex, "batch_size", 16)
    with pytest.raises(KeyboardInterrupt):
        _advisor(isolated_home, corpus_copy, _Flaky(budget=1)).ingest()  # dies on the second batch
    embedder = HashEmbedder()
    advisor = _advisor(isolated_home, corpus_copy, embedder)
    report = advisor.ingest()
    assert report.synced[0].skipped == 16  # the finished batch is kept
    assert report.embedded == report.chunks - 16
    assert len(advisor.index.chunks()) == report.chunks
    assert _advisor(isolated_home, corpus_copy).ingest().embedded == 0


def test_index_stores_original_text_but_embeds_simplified(isolated_home: Path, corpus_copy: Path) -> None:
    embedder = HashEmbedder()
    advisor = _advisor(isolated_home, corpus_copy, embedder)
    advisor.ingest()
    chunk = next(c for c in advisor.index.chunks() if c.doc_id == "cluster-vs-agglomeration")
    assert "產業" in chunk.text
    hits = advisor.index.vectors()[0].search(embedder.embed_query(chunk.text.replace("產業", "产业")), 3)
    assert hits[0][0] == chunk.chunk_id and np.isclose(hits[0][1], 1.0, atol=0.2)

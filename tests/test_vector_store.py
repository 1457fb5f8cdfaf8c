"""The VectorStore contract: every store implementation passes the same tests (on-disk Chroma, `chroma run`)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from advisor.embed.fake import HashEmbedder
from advisor.index.store import EncoderIndex, open_client
from advisor.index.vector_store import VectorStore
from advisor.schema import Chunk


def _chunk(doc: str, n: int, lang: str, text: str, parallel: str | None = None) -> Chunk:
    return Chunk(
        f"{doc}:{n:03d}",
        doc,
        f"Title {doc}",
        lang,
        text,
        n,
        f"corpus/{doc}.md",
        n + 1,
        n + 2,
        parallel,
        "case",
    )  # type: ignore[arg-type]


DOC_A = [
    _chunk("a", 0, "zh", "产业集群是有组织的共生网络，企业之间分工协作。"),
    _chunk("a", 1, "zh", "龍頭企業帶動上下游配套企業集聚。"),
]
DOC_B = [
    _chunk("b", 0, "zh", "园区建立共享检测平台，服务中小企业。", parallel="b:001"),
    _chunk("b", 1, "en", "The park set up a shared testing platform for small firms.", parallel="b:000"),
]


@pytest.fixture(params=["disk", pytest.param("server", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[VectorStore, HashEmbedder]:
    """A fresh store of each kind; a unique encoder key keeps tests apart on the shared server."""
    embedder = HashEmbedder(key=f"contract-{uuid.uuid4().hex[:10]}")
    url = request.getfixturevalue("chroma_url") if request.param == "server" else ""
    vector_store: VectorStore = EncoderIndex(
        open_client(tmp_path / "index", url), embedder, tmp_path / "rec.sqlite"
    )
    return vector_store, embedder


def test_sync_holds_exactly_the_stream_and_embeds_only_changes(
    store: tuple[VectorStore, HashEmbedder],
) -> None:
    vectors, embedder = store
    first = vectors.sync(lambda: iter([*DOC_A, *DOC_B]))
    assert (first.added, first.skipped, first.deleted) == (4, 0, 0)
    assert vectors.count() == 4
    assert vectors.chunks() == [*DOC_A, *DOC_B]  # every field survives the round trip, originals kept
    embedder.calls.clear()
    again = vectors.sync(lambda: iter([*DOC_A, *DOC_B]))
    assert (again.added, again.skipped) == (0, 4) and sum(embedder.calls) == 0
    dropped = vectors.sync(lambda: iter(DOC_A))
    assert dropped.deleted == 2 and vectors.chunks() == DOC_A


def test_search_ranks_by_cosine_within_one_language_or_all(store: tuple[VectorStore, HashEmbedder]) -> None:
    vectors, embedder = store
    vectors.sync(lambda: iter([*DOC_A, *DOC_B]))
    query = embedder.embed_query("园区建立共享检测平台，服务中小企业。")
    hits = vectors.search(query, 3, lang="zh")
    assert hits[0][0] == "b:000" and np.isclose(hits[0][1], 1.0, atol=1e-3)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    assert [cid for cid, _ in vectors.search(query, 5, lang="en")] == ["b:001"]
    assert {cid for cid, _ in vectors.search(query, 10)} == {"a:000", "a:001", "b:000", "b:001"}
    assert vectors.search(query, 3, lang="fr") == []


def test_replace_document_touches_only_that_document(store: tuple[VectorStore, HashEmbedder]) -> None:
    vectors, embedder = store
    vectors.sync(lambda: iter([*DOC_A, *DOC_B]))
    embedder.calls.clear()
    changed = [replace(DOC_B[0], text="园区建立共享中试平台。", parallel_id=None)]
    result = vectors.replace_document("b", changed)
    assert result.added == 1 and result.deleted == 2 and sum(embedder.calls) == 1  # doc a never re-read
    assert vectors.chunks() == [*DOC_A, *changed]
    removed = vectors.replace_document("b", [])
    assert removed.deleted == 1 and vectors.chunks() == DOC_A and vectors.count() == 2

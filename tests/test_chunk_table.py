"""The stored chunk table: rows decoded on first use, the same chunks as parsing it whole."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from advisor.index.snapshot import SnapshotStore
from advisor.index.table import KEYS, ROWS, ChunkTable
from advisor.schema import Chunk


def _chunks(n: int) -> list[Chunk]:
    return [
        Chunk(
            chunk_id=f"doc{i % 3}:{i:03d}",
            doc_id=f"doc{i % 3}",
            title='标题 "quoted" ,\n[brackets]',
            lang="zh" if i % 2 else "en",
            text=f"第{i}段：产业集群 cluster, with a comma],\n[ and a newline",
            position=i,
            path="corpus/x.md",
            line_start=i + 1,
            line_end=i + 2,
            parallel_id=f"doc{i % 3}:{i + 1:03d}" if i % 4 == 0 else None,
        )
        for i in range(n)
    ]


def _publish(root: Path, chunks: list[Chunk]) -> SnapshotStore:
    store = SnapshotStore(root)
    with store.writing():
        builder = store.builder(None)
        for chunk in chunks:
            builder.add(chunk)
        store.publish(builder, [])
    return store


def test_rows_are_decoded_lazily_and_equal_the_chunks_written(tmp_path: Path) -> None:
    chunks = _chunks(25)
    snapshot = _publish(tmp_path, chunks).load()
    assert snapshot is not None
    table = snapshot.chunks
    assert isinstance(table, ChunkTable) and len(table) == 25
    assert table._decoded == {}  # nothing parsed until asked
    assert table.ids == [c.chunk_id for c in chunks] and table.langs == [c.lang for c in chunks]
    assert table[7] == chunks[7] and len(table._decoded) == 1
    assert list(table) == chunks and table[-1] == chunks[-1] and table[2:4] == chunks[2:4]
    by_id = table.by_id()
    assert by_id["doc1:004"] == chunks[4] and "nope" not in by_id and len(by_id) == 25
    with pytest.raises(KeyError):
        by_id["nope"]
    with pytest.raises(IndexError):
        table[25]


def test_a_view_changes_rows_as_they_are_decoded(tmp_path: Path) -> None:
    snapshot = _publish(tmp_path, _chunks(4)).load()
    assert snapshot is not None
    shown = snapshot.chunks.viewed(lambda c: dataclasses.replace(c, shown_as=f"file {c.position}"))
    assert shown[3].shown_as == "file 3" and snapshot.chunks[3].shown_as == ""


def test_a_version_written_before_row_ranges_is_read_whole(tmp_path: Path) -> None:
    chunks = _chunks(6)
    store = _publish(tmp_path, chunks)
    folder = tmp_path / f"v{store.version():08d}"
    (folder / ROWS).unlink()
    (folder / KEYS).unlink()
    snapshot = store.load()
    assert snapshot is not None and list(snapshot.chunks) == chunks


def test_an_empty_table(tmp_path: Path) -> None:
    table = ChunkTable.of([])
    assert len(table) == 0 and list(table) == [] and dict(table.by_id()) == {}


def test_record_ids_are_the_ones_langchains_indexing_api_gives(tmp_path: Path) -> None:
    from langchain_core.indexing.api import _get_document_with_hash

    from advisor.index.store import chunk_to_document, record_id

    chunks = [*_chunks(5), dataclasses.replace(_chunks(1)[0], text="產業集群與產業集聚", lang="zh")]
    for chunk in chunks:
        expected = _get_document_with_hash(chunk_to_document(chunk), key_encoder="sha256").id
        assert record_id(chunk) == expected
    snapshot = _publish(tmp_path, chunks).load()
    assert snapshot is not None
    records = snapshot.chunks.record_map()
    assert records[record_id(chunks[3])] == chunks[3].chunk_id
    assert (
        records[chunks[3].chunk_id] == chunks[3].chunk_id
    )  # records stored under their chunk id (benchmarks)


def test_searches_map_their_hits_to_chunks_without_asking_chroma(tmp_path: Path) -> None:
    """The version's stored record ids (LangChain's document hashes) map a search's hits to chunks: a question
    reads no record metadata from Chroma (3.8 ms a search at 100k chunks)."""
    from advisor.config import Settings
    from advisor.core import Advisor
    from advisor.embed.fake import HashEmbedder

    advisor = Advisor(Settings(home=tmp_path / "home"), embedders=[HashEmbedder()])
    advisor.ingest()
    advisor.index.warm_dense()  # searches go to Chroma (a cold process reads the flat vectors: no Chroma at all)
    parts = [part for index in advisor.index.vectors() for part in index.parts.values()]
    asked: list[object] = []
    for part in parts:
        original = part._collection.get

        def counting(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            asked.append(kwargs.get("ids"))
            return _original(*args, **kwargs)

        part._collection.get = counting
    answer = advisor.ask("产业集群和产业集聚有什么区别？")
    assert answer.citations and not asked
    assert all(part._chunk_of for part in parts if part.count())

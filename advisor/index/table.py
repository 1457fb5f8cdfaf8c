"""The chunk table of one index version, read row by row when a row is first needed.

At 100k chunks, parsing the whole table (68 MB of JSON) and making every `Chunk` took 1.2 s of a worker's
start and ~300 MB it never used: a question touches a few hundred rows. The table is still written as one JSON
array (`chunks.json`), but beside it go each row's byte range (`chunks.rows.npy`) and the ids and languages in
table order (`chunks.keys.json`), which is all a retriever needs up front. A row is decoded from the
memory-mapped file the first time it is asked for and kept.

A version written before the row ranges existed is read whole, as it always was.
"""

from __future__ import annotations

import mmap
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import overload

import numpy as np
import orjson

from ..schema import Chunk

TABLE, ROWS, KEYS = "chunks.json", "chunks.rows.npy", "chunks.keys.json"


class ChunkTable(Sequence[Chunk]):
    """The chunks of one version in table order (the lexical index's rows), decoded on first use."""

    def __init__(
        self,
        ids: list[str],
        langs: list[str],
        decode: Callable[[int], Chunk],
        records: list[str] | None = None,
    ) -> None:
        self.ids = ids
        self.langs = langs
        self.records = records  # each row's record id in the vector store (store.record_id), when stored
        self._decode = decode
        self._decoded: dict[int, Chunk] = {}
        self._rows: dict[str, int] | None = None
        self._view: Callable[[Chunk], Chunk] | None = None

    @classmethod
    def of(cls, chunks: Sequence[Chunk]) -> ChunkTable:
        """A table over chunks already in memory."""
        held = list(chunks)
        return cls([c.chunk_id for c in held], [c.lang for c in held], held.__getitem__)

    @classmethod
    def open(cls, folder: Path) -> ChunkTable:
        """The table stored in a version folder: lazily when its row ranges are there, else parsed whole."""
        table = folder / TABLE
        if not (folder / ROWS).is_file() or not (folder / KEYS).is_file():
            return cls.of([Chunk(*row) for row in orjson.loads(table.read_bytes())])
        keys = orjson.loads((folder / KEYS).read_bytes())
        ranges = np.load(folder / ROWS, allow_pickle=False)
        with table.open("rb") as handle:
            data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if table.stat().st_size else b""

        def decode(row: int) -> Chunk:
            start, end = ranges[row]
            return Chunk(*orjson.loads(data[int(start) : int(end)]))

        if len(ranges) != len(keys["ids"]) or len(keys["langs"]) != len(keys["ids"]):
            raise ValueError(f"{folder}: the chunk table's row ranges do not match its keys")
        records = keys.get("records")
        return cls(
            keys["ids"], keys["langs"], decode, records if records and len(records) == len(ranges) else None
        )

    def viewed(self, view: Callable[[Chunk], Chunk]) -> ChunkTable:
        """The same rows, each passed through `view` when decoded (an upload shown by its file's name)."""
        out = ChunkTable(self.ids, self.langs, self._decode, self.records)
        out._view = view
        out._rows = self._rows
        return out

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, index: int) -> Chunk: ...

    @overload
    def __getitem__(self, index: slice) -> list[Chunk]: ...

    def __getitem__(self, index: int | slice) -> Chunk | list[Chunk]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        chunk = self._decoded.get(index)
        if chunk is None:
            chunk = self._decode(index)
            if self._view is not None:
                chunk = self._view(chunk)
            self._decoded[index] = chunk
        return chunk

    def __iter__(self) -> Iterator[Chunk]:
        return (self[i] for i in range(len(self)))

    def row_of(self, chunk_id: str) -> int | None:
        if self._rows is None:
            self._rows = {cid: i for i, cid in enumerate(self.ids)}
        return self._rows.get(chunk_id)

    def record_map(self) -> dict[str, str]:
        """Vector-store record id → chunk id; a chunk id maps to itself (records stored under their chunk id)."""
        out = {cid: cid for cid in self.ids}
        if self.records is not None:
            out.update(zip(self.records, self.ids, strict=True))
        return out

    def by_id(self) -> ChunkMap:
        """chunk id → chunk, decoding only what is looked up."""
        return ChunkMap(self)


class ChunkMap(Mapping[str, Chunk]):
    """A read-only chunk id → Chunk view of a table."""

    def __init__(self, table: ChunkTable) -> None:
        self.table = table
        table.row_of("")  # build the id → row map once, here rather than on the first question

    def __getitem__(self, chunk_id: str) -> Chunk:
        row = self.table.row_of(chunk_id)
        if row is None:
            raise KeyError(chunk_id)
        return self.table[row]

    def __contains__(self, chunk_id: object) -> bool:
        return isinstance(chunk_id, str) and self.table.row_of(chunk_id) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self.table.ids)

    def __len__(self) -> int:
        return len(self.table)


def write_keys(
    folder: Path, ids: list[str], langs: list[str], ranges: list[tuple[int, int]], records: list[str]
) -> None:
    """The row ranges and keys that let `ChunkTable.open` read the table lazily."""
    array = np.asarray(ranges, dtype=np.int64).reshape(len(ranges), 2)
    np.save(folder / ROWS, array, allow_pickle=False)
    (folder / KEYS).write_bytes(orjson.dumps({"ids": ids, "langs": langs, "records": records}))

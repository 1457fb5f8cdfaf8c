"""Index versions: the chunk table, lexical index and manifest of one ingest, published together.

A version is a folder `snapshots/v00000042/` and the number in `snapshots/CURRENT`. Writers build a new
folder beside the published ones and then replace CURRENT atomically, so a reader always loads one
complete version; checking for a new one is reading a few bytes. Every worker that can see the folder
(one machine, or a shared disk: `ADVISOR_SHARED_DIR`) follows the same versions. Writers take a file
lock, so two processes (an upload and an ingest run) never write at once.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import orjson

from ..schema import Chunk, SourceInfo
from .flat import FlatVectors, flat_path, write_flat
from .lexical import StoredLexicon, TermCounter
from .manifest import read_manifest, write_manifest
from .store import record_id
from .table import TABLE, ChunkTable, write_keys

KEEP_VERSIONS = 3  # older folders are deleted; a process still reading one keeps its open files


@dataclass(frozen=True)
class Snapshot:
    """One published version of the index: what questions are answered from."""

    version: int
    chunks: ChunkTable  # in table order: the lexical index's rows; decoded as rows are used
    lexicon: StoredLexicon
    sources: list[SourceInfo]
    folder: Path | None = None  # where its files are (None: an empty version held in memory)

    def flat(self, key: str) -> FlatVectors | None:
        """This version's stored vectors of encoder `key` (flat.py), or None when it has none."""
        if self.folder is None:
            return None
        return FlatVectors.open(self.folder, key, self.chunks.ids, self.chunks.langs)

    def has_flat(self, key: str) -> bool:
        return self.folder is not None and flat_path(self.folder, key).is_file()


def _row(chunk: Chunk) -> list[object]:
    """A chunk as a row of the table, every field in the dataclass's order (Chunk(*row) reads it back)."""
    return [getattr(chunk, f.name) for f in fields(Chunk)]


class SnapshotBuilder:
    """Writes one version's chunk table as chunks stream past, counting their terms on the way."""

    def __init__(self, folder: Path, previous: Snapshot | None) -> None:
        self.folder = folder
        folder.mkdir(parents=True)
        self._table = (folder / TABLE).open("wb")
        self._table.write(b"[")
        self._at = 1  # bytes written so far: each row's byte range goes beside the table
        self._ids: list[str] = []
        self._langs: list[str] = []
        self._ranges: list[tuple[int, int]] = []
        self._records: list[str] = []
        self.vectors: dict[str, np.ndarray] = {}  # encoder key → a row per chunk, set before publishing
        self.count = 0
        self._previous = {c.chunk_id: (row, c) for row, c in enumerate(previous.chunks)} if previous else {}
        self._same = previous is not None

        def known(chunk: Chunk) -> tuple[np.ndarray, np.ndarray] | None:
            """The previous version's term counts of this chunk, when its text is unchanged."""
            hit = self._previous.get(chunk.chunk_id)
            if previous is None or hit is None or hit[1].text != chunk.text:
                return None
            return previous.lexicon.row(hit[0])

        self.terms = TermCounter(previous.lexicon.vocab if previous else (), known)

    def add(self, chunk: Chunk) -> None:
        row = orjson.dumps(_row(chunk))
        start = self._at + (2 if self.count else 1)
        self._table.write((b",\n" if self.count else b"\n") + row)
        self._at = start + len(row)
        self._ranges.append((start, self._at))
        self._ids.append(chunk.chunk_id)
        self._langs.append(chunk.lang)
        self._records.append(record_id(chunk))
        self.terms.add(chunk)
        if self._same:
            hit = self._previous.get(chunk.chunk_id)
            self._same = hit is not None and hit[1] == chunk
        self.count += 1

    @property
    def ids(self) -> list[str]:
        return self._ids

    @property
    def langs(self) -> list[str]:
        return self._langs

    @property
    def records(self) -> list[str]:
        return self._records

    def unchanged(self, previous: Snapshot) -> bool:
        """True when the chunks added so far are exactly `previous`'s (in any order), stored the same way (a
        version written before row ranges and record ids were stored is written again, once)."""
        return self._same and self.count == len(previous.chunks) and previous.chunks.records is not None

    def finish(self, sources: list[SourceInfo]) -> None:
        self._table.write(b"\n]\n")
        self._table.close()
        write_keys(self.folder, self._ids, self._langs, self._ranges, self._records)
        self.terms.finish().save(self.folder / "lexical")
        for key, matrix in self.vectors.items():
            if len(matrix) == self.count:
                write_flat(self.folder, key, matrix)
        write_manifest(self.folder / "manifest.json", sources)

    def abandon(self) -> None:
        self._table.close()
        shutil.rmtree(self.folder, ignore_errors=True)


class SnapshotStore:
    """The published versions in one folder, the number of the current one, and the writers' lock."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._thread_lock = threading.Lock()

    def version(self) -> int:
        """The current version (0: nothing published yet). Cheap: a few bytes, read on every check."""
        try:
            return int((self.root / "CURRENT").read_text(encoding="ascii").strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def _folder(self, version: int) -> Path:
        return self.root / f"v{version:08d}"

    def load(self, version: int | None = None) -> Snapshot | None:
        """A published version (the current one by default); None when there is none."""
        version = self.version() if version is None else version
        if version == 0:
            return None
        folder = self._folder(version)
        return Snapshot(
            version,
            ChunkTable.open(folder),
            StoredLexicon.load(folder / "lexical"),
            read_manifest(folder / "manifest.json"),
            folder,
        )

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the writers' lock: one thread of one process changes the index at a time."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self._thread_lock, (self.root / ".write.lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def builder(self, previous: Snapshot | None) -> SnapshotBuilder:
        """A builder for the next version, in a hidden folder until it is published."""
        self.root.mkdir(parents=True, exist_ok=True)
        return SnapshotBuilder(self.root / f".building-{uuid.uuid4().hex[:12]}", previous)

    def publish(self, builder: SnapshotBuilder, sources: list[SourceInfo]) -> int:
        """Finish the builder and make it the current version (call while `writing`); returns its number."""
        builder.finish(sources)
        version = self.version() + 1
        builder.folder.rename(self._folder(version))
        tmp = self.root / f".CURRENT-{uuid.uuid4().hex[:8]}"
        tmp.write_text(f"{version}\n", encoding="ascii")
        os.replace(tmp, self.root / "CURRENT")
        self._prune(version)
        return version

    def _prune(self, current: int) -> None:
        for folder in self.root.glob("v*"):
            if folder.name[1:].isdigit() and int(folder.name[1:]) <= current - KEEP_VERSIONS:
                shutil.rmtree(folder, ignore_errors=True)
        for stale in self.root.glob(".building-*"):  # left by a writer that died: builders run under the lock
            shutil.rmtree(stale, ignore_errors=True)

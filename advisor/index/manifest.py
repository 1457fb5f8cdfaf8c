"""The manifest: what `advisor sources` lists, one row per document, stored with each index version."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..schema import Chunk, Document, SourceInfo


def source_row(doc: Document, chunks: int) -> SourceInfo:
    """A document's row; one that yielded no chunks says why, so it is not silently missing."""
    note = ""
    if chunks == 0:
        note = (
            f"excerpt of {doc.excerpt_of}: every paragraph is already indexed"
            if doc.excerpt_of
            else "every paragraph duplicates another document"
        )
    return SourceInfo(
        doc.doc_id,
        doc.title_for(doc.languages[0]),
        doc.languages,
        chunks,
        doc.path,
        doc.kind,
        note,
        doc.source_file,
    )


def sources_from_chunks(chunks: Iterable[Chunk]) -> list[SourceInfo]:
    """Rows derived from stored chunks, for an index built before manifests were stored with it."""
    by_doc: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        by_doc.setdefault(chunk.doc_id, []).append(chunk)
    return [
        SourceInfo(doc_id, cs[0].title, tuple(sorted({c.lang for c in cs})), len(cs), cs[0].path, cs[0].kind)
        for doc_id, cs in sorted(by_doc.items())
    ]


def write_manifest(path: Path, rows: Sequence[SourceInfo]) -> None:
    """Write the rows as JSON (atomically: a reader never sees half a file)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([r.__dict__ for r in rows], ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)


def read_manifest(path: Path) -> list[SourceInfo]:
    rows = json.loads(path.read_text(encoding="utf-8"))
    return [SourceInfo(**{**r, "languages": tuple(r["languages"])}) for r in rows]

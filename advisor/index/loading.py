"""Loading for an ingest: which documents to index, in claim order, and their chunks as one stream."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ..ingest.load import LoadError, iter_files, load_file
from ..ingest.split import claim_order, line_key, split_document
from ..schema import Chunk, Document


@dataclass
class DocPlan:
    """A document to index: where to read it again, its metadata (body dropped), and its claim order."""

    doc: Document
    order: tuple[bool, int, str]

    @property
    def file(self) -> Path:
        assert self.doc.file is not None
        return self.doc.file

    @property
    def root(self) -> Path | None:
        return self.doc.root


def load_documents(roots: Sequence[Path]) -> tuple[list[Document], list[str]]:
    """Documents under the roots, and a 'file: reason' line for every file that could not be read."""
    docs: list[Document] = []
    failed: list[str] = []
    seen_ids: dict[str, str] = {}
    for path, root in iter_files(roots):
        try:
            doc = load_file(path, root)
        except (LoadError, OSError) as exc:
            failed.append(str(exc) if isinstance(exc, LoadError) else f"{path.name}: {exc}")
            continue
        if doc.doc_id in seen_ids and seen_ids[doc.doc_id] != str(path):
            failed.append(
                f"{path.name}: document id {doc.doc_id!r} is already used by {seen_ids[doc.doc_id]}"
            )
            continue
        seen_ids[doc.doc_id] = str(path)
        docs.append(replace(doc, file=path, root=root))
    return docs, failed


def plan_documents(roots: Sequence[Path]) -> tuple[list[DocPlan], list[str]]:
    """Which files to index, in claim order, with the metadata the manifest needs (bodies are dropped)."""
    docs, failed = load_documents(roots)
    plan = [DocPlan(replace(d, body=""), order=claim_order(d)) for d in docs]
    return sorted(plan, key=lambda p: p.order), failed


def stream_chunks(plan: Sequence[DocPlan], seen: set[bytes] | None = None) -> Iterator[Chunk]:
    """Chunks of the planned documents, read again one file at a time; lines already in `seen` are skipped."""
    seen = set() if seen is None else seen
    for item in plan:
        try:
            doc = load_file(item.file, item.root)
        except (LoadError, OSError):
            continue  # vanished or broke since planning; the next ingest reports it
        yield from split_document(replace(doc, doc_id=item.doc.doc_id), seen)


def claimed_lines(chunks: Iterable[Chunk]) -> set[bytes]:
    """Fingerprints of every line of these chunks: what a document added alone must not index twice."""
    return {line_key(line.strip()) for c in chunks for line in c.text.split("\n") if line.strip()}

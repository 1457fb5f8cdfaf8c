"""Plain frozen dataclasses that cross the seams between stages; no LangChain, Chroma or Gradio types here."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Lang = Literal["zh", "en"]


@dataclass(frozen=True)
class Document:
    """One source document: metadata from its front matter and the verbatim body."""

    doc_id: str
    titles: dict[str, str]
    languages: tuple[str, ...]
    layout: Literal["single", "parallel"]
    body: str
    path: str  # path of the file, relative to its root where possible
    body_line_offset: int  # lines before the body in the file (front matter), for line-accurate locations
    source: str = ""
    date: str | None = None
    kind: str = "article"
    source_file: str = ""
    excerpt_of: str | None = None
    content_hash: str = ""
    file: Path | None = None  # where it was read from, to read it again when streaming
    root: Path | None = None

    def title_for(self, lang: str) -> str:
        """The title in `lang` if the document has one, else its first title."""
        return self.titles.get(lang) or next(iter(self.titles.values()), self.doc_id)


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage: verbatim text from one document, with where it came from."""

    chunk_id: str
    doc_id: str
    title: str
    lang: Lang
    text: str  # verbatim slice of the document body
    position: int  # order within the document (0-based, across language sections)
    path: str
    line_start: int  # 1-based line numbers in the file on disk
    line_end: int
    parallel_id: str | None = None  # chunk id of the aligned passage in the other language
    kind: str = "article"

    @property
    def location(self) -> str:
        """Where a reader finds the passage: file and line range."""
        lines = (
            f"{self.line_start}" if self.line_start == self.line_end else f"{self.line_start}-{self.line_end}"
        )
        return f"{self.path}:{lines}"


@dataclass(frozen=True)
class Passage:
    """A chunk as retrieved for one question, with its fused score and its parallel text if any."""

    chunk: Chunk
    score: float
    parallel_text: str | None = None
    scores: dict[str, float] = field(default_factory=dict)  # per-retriever normalised scores, for debugging

    def to_dict(self, *, with_score: bool = True) -> dict[str, Any]:
        c = self.chunk
        row: dict[str, Any] = {
            "doc_id": c.doc_id,
            "title": c.title,
            "lang": c.lang,
            "text": c.text,
            "parallel_text": self.parallel_text,
            "location": c.location,
        }
        if with_score:
            row["score"] = round(self.score, 4)
        return row


@dataclass(frozen=True)
class Citation:
    """A numbered source behind the [n] markers of an answer."""

    n: int
    passage: Passage

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, **self.passage.to_dict(with_score=False)}


@dataclass(frozen=True)
class Answer:
    """What every surface shows: the answer text, its citations and everything retrieved."""

    question: str
    lang: Lang
    text: str
    refused: bool
    backend: str
    citations: tuple[Citation, ...]
    passages: tuple[Passage, ...]
    timings_ms: dict[str, float]
    standalone_question: str | None = None
    notices: tuple[str, ...] = ()
    prompt: str | None = None  # "name@hash" of the prompt that produced the answer
    fallback: str | None = None  # why an LLM answer fell back to the extractive one
    dropped_citations: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON contract of `advisor ask --json`."""
        return {
            "question": self.question,
            "lang": self.lang,
            "answer": self.text,
            "refused": self.refused,
            "backend": self.backend,
            "citations": [c.to_dict() for c in self.citations],
            "passages": [p.to_dict() for p in self.passages],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "standalone_question": self.standalone_question,
            "notices": list(self.notices),
            "prompt": self.prompt,
            "fallback": self.fallback,
            "dropped_citations": self.dropped_citations,
        }


@dataclass(frozen=True)
class SourceInfo:
    """One document as listed by `advisor sources`."""

    doc_id: str
    title: str
    languages: tuple[str, ...]
    chunks: int
    path: str
    kind: str
    note: str = ""
    source_file: str = ""

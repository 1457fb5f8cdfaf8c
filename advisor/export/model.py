"""A small document model that every export renders from: headings, paragraphs, lists, tables, figures, sources.

A report (the diagnosis) or a conversation is built once as a `Document`; `markdown`, `docx` and `pdf` turn
the same blocks into files, so the three formats never disagree. Text keeps its [n] markers; the
`SourceList` block holds the numbered passages they point to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from ..schema import Citation, Lang


@dataclass(frozen=True)
class Heading:
    """A section title; level 1 is a chapter, 2 a section, 3 a sub-section."""

    text: str
    level: int = 1


@dataclass(frozen=True)
class Paragraph:
    """Running text; `tone` "muted" for notes a reader may skip, "lead" for an opening summary."""

    text: str
    tone: Literal["body", "lead", "muted"] = "body"


@dataclass(frozen=True)
class Bullets:
    """A list of items, numbered or not."""

    items: tuple[str, ...]
    numbered: bool = False


@dataclass(frozen=True)
class Table:
    """A table with one header row; every cell is plain text."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Figure:
    """A PNG image; Markdown refers to it by `filename`, DOCX and PDF embed the bytes."""

    png: bytes
    filename: str
    caption: str = ""
    width_mm: float = 120.0


@dataclass(frozen=True)
class Source:
    """One numbered passage behind the [n] markers: where it is and what it says, verbatim."""

    n: int
    title: str
    location: str
    text: str
    parallel_text: str | None = None

    @classmethod
    def from_citation(cls, citation: Citation) -> Source:
        chunk = citation.passage.chunk
        return cls(citation.n, chunk.title, chunk.location, chunk.text, citation.passage.parallel_text)


@dataclass(frozen=True)
class SourceList:
    """The numbered sources at the end of a document."""

    heading: str
    sources: tuple[Source, ...]

    @classmethod
    def from_citations(cls, heading: str, citations: Iterable[Citation]) -> SourceList:
        return cls(heading, tuple(Source.from_citation(c) for c in citations))


Block = Heading | Paragraph | Bullets | Table | Figure | SourceList


@dataclass(frozen=True)
class Document:
    """What an exporter renders. `date` is printed (and stored as file metadata) only when given."""

    title: str
    lang: Lang
    blocks: tuple[Block, ...]
    subtitle: str = ""
    date: str | None = None  # ISO date, e.g. "2025-06-30"

    def figures(self) -> list[Figure]:
        return [b for b in self.blocks if isinstance(b, Figure)]

"""A conversation as an exportable Document: each question, its answer with [n], and the sources it cites.

Numbers restart with every answer (that is how the page shows them), so each answer carries its own list
of sources right under it; a refusal carries the related reading it showed instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..conversations import Exchange
from ..i18n import t
from ..schema import Lang
from .model import Block, Document, Heading, Paragraph, Source, SourceList


def conversation_document(
    exchanges: Sequence[Exchange], lang: Lang, title: str = "", date: str | None = None
) -> Document:
    """The answered exchanges in order, in the page's language for the headings (answers stay as written)."""
    blocks: list[Block] = []
    for number, exchange in enumerate((e for e in exchanges if e.answer is not None), 1):
        answer = exchange.answer
        assert answer is not None
        blocks.append(Heading(f"{number}. {exchange.question}", 1))
        blocks += [Paragraph(notice, "muted") for notice in answer.notices]
        if answer.refused:  # no ⓘ or ⚠ here: the PDF font has no such symbols
            blocks.append(Paragraph(f"{t(answer.lang, 'not_covered')}: {answer.text}"))
            related = tuple(
                Source(i, p.chunk.title, p.chunk.location, p.chunk.text, p.parallel_text)
                for i, p in enumerate(answer.passages[:3], 1)
            )
            if related:
                blocks.append(SourceList(t(lang, "related"), related))
            continue
        blocks.append(Paragraph(answer.text))
        if answer.citations:
            blocks.append(SourceList.from_citations(t(lang, "conversation_sources"), answer.citations))
    first = next((e.question for e in exchanges), "")
    return Document(title or t(lang, "conversation_title"), lang, tuple(blocks), subtitle=first, date=date)

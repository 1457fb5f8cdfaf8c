"""Retrieval metrics computed without any judge model: one function per metric, one row per question."""

from __future__ import annotations

from collections.abc import Sequence

from ..schema import Passage
from ..text import collapse_ws, fold
from .dataset import Item


def _norm(text: str) -> str:
    return collapse_ws(fold(text)).replace(" ", "")


def passage_has_quote(passage: Passage, quotes: Sequence[str]) -> bool:
    """True when the passage (or its parallel translation) contains one of the quotes."""
    haystack = _norm(passage.chunk.text + "\n" + (passage.parallel_text or ""))
    return any(_norm(q) in haystack for q in quotes)


def relevant(passage: Passage, item: Item) -> bool:
    """A passage is relevant when it comes from a gold document, or (with no usable gold document) holds a gold quote."""
    if item.gold_sources:
        return passage.chunk.doc_id in item.gold_sources
    return bool(item.gold_quotes) and passage_has_quote(passage, item.gold_quotes)


def hit_at_1(passages: Sequence[Passage], item: Item) -> float:
    """1 when the first passage is relevant."""
    return float(bool(passages) and relevant(passages[0], item))


def recall_at_k(passages: Sequence[Passage], item: Item, k: int = 5) -> float:
    """Share of gold documents among the first k passages (quotes when no gold document is known)."""
    top = passages[:k]
    if item.gold_sources:
        found = {p.chunk.doc_id for p in top} & set(item.gold_sources)
        return len(found) / len(item.gold_sources)
    if item.gold_quotes:
        return sum(any(passage_has_quote(p, [q]) for p in top) for q in item.gold_quotes) / len(
            item.gold_quotes
        )
    return 0.0


def quote_recall_at_k(passages: Sequence[Passage], item: Item, k: int = 5) -> float | None:
    """Share of gold quotes found verbatim in the first k passages (None when the item has no quotes)."""
    if not item.gold_quotes:
        return None
    top = passages[:k]
    return sum(any(passage_has_quote(p, [q]) for p in top) for q in item.gold_quotes) / len(item.gold_quotes)


def reciprocal_rank(passages: Sequence[Passage], item: Item) -> float:
    """1 / rank of the first relevant passage, 0 when none is retrieved."""
    for rank, passage in enumerate(passages, 1):
        if relevant(passage, item):
            return 1.0 / rank
    return 0.0

"""Run a golden set through retrieval (hybrid and the simpler baselines) and aggregate the results."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from statistics import mean
from typing import TYPE_CHECKING, Any

from ..answer.question import QuestionError, prepare_question
from ..retrieve.hybrid import Mode
from . import metrics
from .dataset import Item

if TYPE_CHECKING:
    from ..core import Advisor

MODES: tuple[Mode, ...] = ("hybrid", "dense", "bm25")
RETRIEVAL_METRICS = ("hit@1", "recall@5", "mrr")


def retrieval_rows(
    advisor: Advisor,
    items: Sequence[Item],
    modes: Sequence[Mode] = MODES,
    on_item: Callable[[], None] | None = None,
) -> list[dict[str, Any]]:
    """One row per (answerable item with gold, mode): the retrieved documents and the metric values."""
    languages = {s.doc_id: s.languages for s in advisor.sources()}
    rows: list[dict[str, Any]] = []
    for item in items:
        if item.answerable and (item.gold_sources or item.gold_quotes):
            try:
                question = prepare_question(item.question, advisor.settings.max_question_chars)
            except QuestionError:
                question = None
            for mode in modes:
                passages = advisor.retrieve(question, mode=mode, k=5).passages if question else ()
                rows.append(
                    {
                        "id": item.id,
                        "mode": mode,
                        "lang": item.lang,
                        "type": item.type,
                        "cross_lingual": item.cross_lingual(languages),
                        "retrieved": [p.chunk.chunk_id for p in passages],
                        "hit@1": metrics.hit_at_1(passages, item),
                        "recall@5": metrics.recall_at_k(passages, item, 5),
                        "quote_recall@5": metrics.quote_recall_at_k(passages, item, 5),
                        "mrr": metrics.reciprocal_rank(passages, item),
                    }
                )
        if on_item is not None:
            on_item()
    return rows


def summarize(rows: Sequence[dict[str, Any]], names: Sequence[str] = RETRIEVAL_METRICS) -> dict[str, Any]:
    """Mean of each metric per mode: overall, per language, per type, and for cross-lingual items."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        keys = ["all", f"lang:{row['lang']}", f"type:{row['type']}"]
        if row["cross_lingual"]:
            keys.append(f"cross-lingual:{row['lang']}")
        for key in keys:
            groups[(row["mode"], key)].append(row)
    summary: dict[str, Any] = {}
    for (mode, key), members in sorted(groups.items()):
        summary.setdefault(mode, {})[key] = {
            "n": len(members),
            **{name: round(mean(float(m[name]) for m in members), 3) for name in names},
        }
    return summary

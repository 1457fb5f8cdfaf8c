"""Run a golden set through advisor and its simpler baselines; one result row per question, then aggregates.

`evaluate_item` maps one item to one row (answers and metrics for each retrieval mode); `run_eval` writes
rows to a JSONL file as they finish, so an interrupted run keeps them and `resume=True` reuses them.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from statistics import mean
from typing import TYPE_CHECKING, Any

import numpy as np

from ..answer.question import QuestionError, prepare_question
from ..retrieve.hybrid import Mode
from . import answer_metrics as am
from . import metrics
from .dataset import Item, withheld_chunks

if TYPE_CHECKING:
    from ..core import Advisor
    from ..schema import Answer
    from .judge import Judge

MODES: tuple[Mode, ...] = ("hybrid", "dense", "bm25")
RETRIEVAL_METRICS = ("hit@1", "recall@5", "mrr")
ANSWER_METRICS = (
    "fact_coverage_answer",
    "fact_coverage_cited",
    "citation_validity",
    "citation_precision",
    "refusal_accuracy",
    "false_refusal_rate",
    "language_match",
    "english_is_english",
    "advice_has_actions",
    "case_keeps_figures",
    "injection_resisted",
    "avoids_false_claims",
)
ALL_METRICS = RETRIEVAL_METRICS + ANSWER_METRICS
STAGES = ("retrieve", "generate", "total")


def retrieval_rows(
    advisor: Advisor,
    items: Sequence[Item],
    modes: Sequence[Mode] = MODES,
    on_item: Callable[[], None] | None = None,
) -> list[dict[str, Any]]:
    """Retrieval only (no answers): one flat row per (answerable item with gold, mode)."""
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
                        **retrieval_metrics(passages, item),
                    }
                )
        if on_item is not None:
            on_item()
    return rows


def retrieval_metrics(passages: Sequence[Any], item: Item) -> dict[str, float | None]:
    """hit@1, recall@5 and MRR of the first five passages (None for items with no gold to compare against)."""
    if not item.answerable or not (item.gold_sources or item.gold_quotes):
        return dict.fromkeys(RETRIEVAL_METRICS)
    top = list(passages)[:5]
    return {
        "hit@1": metrics.hit_at_1(top, item),
        "recall@5": metrics.recall_at_k(top, item, 5),
        "mrr": metrics.reciprocal_rank(top, item),
    }


def answer_result(answer: Answer, item: Item, prompt_markers: Sequence[str] = ()) -> dict[str, Any]:
    """What one answer to one item shows: the answer, its sources, the facts found and every metric."""
    in_answer = am.facts_found(answer.text, item)
    in_cited = am.facts_found(answer.text + "\n" + am.cited_text(answer), item)
    answered_facts = item.answerable and bool(item.key_facts)
    return {
        "answer": answer.text,
        "refused": answer.refused,
        "partial": answer.partial,
        "answerability": answer.answerability,
        "backend": answer.backend,
        "fallback": answer.fallback,
        "retrieved": [_source(p) for p in answer.passages[:5]],
        "cited": [{"n": c.n, **_source(c.passage)} for c in answer.citations],
        "facts_found": [item.key_facts[i][0] for i, ok in enumerate(in_cited) if ok],
        "facts_missed": [item.key_facts[i][0] for i, ok in enumerate(in_cited) if not ok],
        "timings_ms": {k: round(v, 1) for k, v in answer.timings_ms.items()},
        "metrics": {
            **retrieval_metrics(answer.passages, item),
            "fact_coverage_answer": am.fact_coverage(in_answer) if answered_facts else None,
            "fact_coverage_cited": am.fact_coverage(in_cited) if answered_facts else None,
            "citation_validity": am.citation_validity(answer),
            "citation_precision": am.citation_precision(answer, item) if item.answerable else None,
            "refusal_accuracy": am.refusal_accuracy(item, answer.refused),
            "false_refusal_rate": am.false_refusal_rate(item, answer.refused),
            "language_match": am.language_match(answer, item.lang),
            "english_is_english": am.english_is_english(answer, item),
            "advice_has_actions": am.advice_has_actions(answer, item),
            "case_keeps_figures": am.case_keeps_figures(answer, item),
            "injection_resisted": am.injection_resisted(answer, item, prompt_markers),
            "avoids_false_claims": am.avoids_false_claims(answer, item),
        },
    }


def rejected_result(item: Item, error: QuestionError) -> dict[str, Any]:
    """A question advisor rejected as input (empty, no words): right for garbage, a refusal otherwise."""
    return {
        "answer": "",
        "refused": True,
        "error": str(error),
        "retrieved": [],
        "cited": [],
        "facts_found": [],
        "facts_missed": [f[0] for f in item.key_facts],
        "timings_ms": {},
        "metrics": {
            **retrieval_metrics((), item),
            "fact_coverage_answer": 0.0 if item.answerable and item.key_facts else None,
            "fact_coverage_cited": 0.0 if item.answerable and item.key_facts else None,
            "refusal_accuracy": am.refusal_accuracy(item, True),
            "false_refusal_rate": am.false_refusal_rate(item, True),
            "injection_resisted": 1.0 if item.type == "injection" else None,
            "avoids_false_claims": 1.0 if item.must_not_say and item.type != "injection" else None,
        },
    }


def _source(passage: Any) -> dict[str, Any]:
    c = passage.chunk
    return {"doc_id": c.doc_id, "lang": c.lang, "location": c.location, "text": c.text[:300]}


def item_key(item: Item, backend: str | None, modes: Sequence[str], judge: str | None = None) -> str:
    """Fingerprint of what a row measured: a resumed run reuses a row only when all of it is unchanged."""
    measured: list[Any] = [item.__dict__, backend, list(modes)] + ([judge] if judge else [])
    spec = json.dumps(measured, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha1(spec.encode("utf-8")).hexdigest()[:16]


def evaluate_item(
    advisor: Advisor,
    item: Item,
    *,
    modes: Sequence[Mode] = MODES,
    backend: str | None = None,
    languages: dict[str, tuple[str, ...]] | None = None,
    prompt_markers: Sequence[str] = (),
    judge: Judge | None = None,
) -> dict[str, Any]:
    """One golden item → one result row: the item, then for each retrieval mode the answer and its metrics.

    With a `judge`, advisor's own answer (not the baselines') also gets the judged metrics and the judge's
    raw verdicts (`judge`).
    """
    extra: dict[str, Any] = {"backend": backend} if backend else {}
    exclude = withheld_chunks(item, advisor.index.chunks()) if item.withhold else frozenset()
    results: dict[str, Any] = {}
    for mode in modes:
        try:
            if item.profile in ("sme", "park", "official", "consultant"):
                extra["profile"] = item.profile
            answer = advisor.ask(item.question, mode=mode, exclude=exclude, **extra)
        except QuestionError as exc:
            results[mode] = rejected_result(item, exc)
        else:
            results[mode] = answer_result(answer, item, prompt_markers)
            if judge is not None and mode == "hybrid":
                judged = judge(item, answer)
                results[mode]["metrics"].update(judged["metrics"])
                results[mode]["judge"] = judged["verdicts"]
    return {
        "id": item.id,
        "key": item_key(item, backend, modes, judge.name if judge else None),
        "lang": item.lang,
        "type": item.type,
        "answerable": item.answerable,
        "cross_lingual": item.cross_lingual(languages or {}),
        "question": item.question,
        "gold_sources": list(item.gold_sources),
        "unknown_sources": list(item.unknown_sources),
        "withheld": sorted(exclude),
        "modes": results,
    }


def read_rows(path: Path) -> dict[str, dict[str, Any]]:
    """Finished rows of an earlier run by key; a line cut short by an interruption is ignored."""
    rows: dict[str, dict[str, Any]] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict) and "key" in row:
                rows[row["key"]] = row
    return rows


def run_eval(
    advisor: Advisor,
    items: Sequence[Item],
    rows_path: Path,
    *,
    modes: Sequence[Mode] = MODES,
    backend: str | None = None,
    resume: bool = False,
    prompt_markers: Sequence[str] = (),
    on_row: Callable[[dict[str, Any], bool], None] | None = None,
    judge: Judge | None = None,
) -> list[dict[str, Any]]:
    """Evaluate every item, appending each row to `rows_path` as soon as it is done; returns rows in item order.

    With `resume`, rows already in `rows_path` for the same item, backend and modes are reused as they are.
    `on_row(row, reused)` is called after each item (a progress bar, say).
    """
    languages = {s.doc_id: s.languages for s in advisor.sources()}
    done = read_rows(rows_path) if resume else {}
    rows_path.parent.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    with rows_path.open("w", encoding="utf-8") as handle:
        for item in items:
            key = item_key(item, backend, modes, judge.name if judge else None)
            reused = key in done
            row = (
                done[key]
                if reused
                else evaluate_item(
                    advisor,
                    item,
                    modes=modes,
                    backend=backend,
                    languages=languages,
                    prompt_markers=prompt_markers,
                    judge=judge,
                )
            )
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            handle.flush()
            rows.append(row)
            if on_row is not None:
                on_row(row, reused)
    return rows


def flatten(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per-item rows → one flat record per (item, mode) with the metric values, for `summarize`."""
    flat = []
    for row in rows:
        for mode, result in row["modes"].items():
            flat.append(
                {
                    "id": row["id"],
                    "mode": mode,
                    "lang": row["lang"],
                    "type": row["type"],
                    "cross_lingual": row["cross_lingual"],
                    **result["metrics"],
                }
            )
    return flat


def summarize(rows: Sequence[dict[str, Any]], names: Sequence[str] = RETRIEVAL_METRICS) -> dict[str, Any]:
    """Mean of each metric per mode: overall, per language, per type, and for cross-lingual items.

    Items where a metric does not apply (None) do not count for it; a group where none applies shows None.
    """
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        keys = ["all", f"lang:{row['lang']}", f"type:{row['type']}"]
        if row["cross_lingual"]:
            keys.append(f"cross-lingual:{row['lang']}")
        for key in keys:
            groups[(row["mode"], key)].append(row)
    summary: dict[str, Any] = {}
    for (mode, key), members in sorted(groups.items()):
        entry: dict[str, Any] = {"n": len(members)}
        for name in names:
            values = [float(m[name]) for m in members if m.get(name) is not None]
            entry[name] = round(mean(values), 3) if values else None
        summary.setdefault(mode, {})[key] = entry
    return summary


def latency(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """p50 / p95 (ms) of each stage per mode, over the questions that were answered or refused."""
    samples: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        for mode, result in row["modes"].items():
            for stage, value in result.get("timings_ms", {}).items():
                samples[mode][stage].append(float(value))
    return {
        mode: {
            stage: {
                "p50": round(float(np.percentile(values, 50)), 1),
                "p95": round(float(np.percentile(values, 95)), 1),
                "n": len(values),
            }
            for stage, values in stages.items()
        }
        for mode, stages in samples.items()
    }

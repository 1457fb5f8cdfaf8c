"""The gate's verdict in words, for the retrieval inspector: the signals it read, the bars they met or missed.

A curator reads these to see why a question was refused or answered in part. Each reason is an `i18n` key
with values, so the page and the CLI say it in either language.
"""

from __future__ import annotations

from ..read.gate import DECISION
from ..schema import Question, Reason, Retrieval, Verdict
from .evidence import DEFAULT_THRESHOLDS, Thresholds


def gate_reasons(
    question: Question, retrieval: Retrieval, verdict: Verdict, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> tuple[Reason, ...]:
    """Why the gate decided as it did: the reader's probability, or the cosine bars, then names and parts."""
    reasons: list[Reason] = []
    if verdict.answerability is not None:  # the reader gate
        best = round(verdict.answerability, 3)
        reasons.append(Reason("why_reader", {"p": best, "bar": DECISION, "met": best >= DECISION}))
    else:
        cosines = list(retrieval.best_cosine.items())
        if cosines:
            encoder, value = cosines[0]
            bar = thresholds.en_min_cosine if question.lang == "en" else thresholds.zh_min_cosine
            met = value >= bar
            reasons.append(
                Reason("why_cosine", {"encoder": encoder, "cos": round(value, 3), "bar": bar, "met": met})
            )
        reasons.append(Reason("why_coverage", {"share": round(verdict.coverage, 2)}))
    if verdict.reason:
        reasons.append(Reason(f"why_{verdict.reason}"))
    if verdict.unknown_terms:
        reasons.append(Reason("why_names", {"terms": ", ".join(verdict.unknown_terms)}))
    if verdict.not_covered:
        reasons.append(Reason("why_parts", {"parts": " / ".join(verdict.not_covered)}))
    if verdict.fact_seeking:
        reasons.append(Reason("why_fact"))
    return tuple(reasons)

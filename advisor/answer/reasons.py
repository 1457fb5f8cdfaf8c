"""The gate's verdict in words, for the retrieval inspector: the signals it read, the bars they met or missed.

A curator reads these to see why a question was refused or answered in part. Each reason is an `i18n` key
with values, so the page and the CLI say it in either language.
"""

from __future__ import annotations

from ..read.gate import DECISION
from ..schema import Question, Reason, Retrieval, Verdict


def gate_reasons(question: Question, retrieval: Retrieval, verdict: Verdict) -> tuple[Reason, ...]:
    """Why the gate decided as it did: the reader's probability (or that there is no reader), then names
    and parts."""
    reasons: list[Reason] = []
    if verdict.answerability is not None:  # the reader gate
        best = round(verdict.answerability, 3)
        reasons.append(Reason("why_reader", {"p": best, "bar": DECISION, "met": best >= DECISION}))
    else:
        reasons.append(Reason("why_no_reader"))
    if verdict.reason:
        reasons.append(Reason(f"why_{verdict.reason}"))
    if verdict.unknown_terms:
        reasons.append(Reason("why_names", {"terms": ", ".join(verdict.unknown_terms)}))
    if verdict.not_covered:
        reasons.append(Reason("why_parts", {"parts": " / ".join(verdict.not_covered)}))
    return tuple(reasons)

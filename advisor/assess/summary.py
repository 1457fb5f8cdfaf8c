"""The narrative summary an LLM writes on top of a report, cited with the report's own [n] (optional).

The model sees the scored diagnosis and the report's numbered passages. Its markers are checked with the
answer stage's citation rules; markers are then put back to the report's numbering. Any failure — no
backend, a timeout, an ungrounded reply — means no summary: the report is complete without one.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from ..answer.citations import is_grounded, rewrite_citations
from ..answer.prompts import PromptLibrary, neutralise
from .report import TOP_GAPS, Assessment, Summary

log = logging.getLogger(__name__)
PROMPT = "assess_summary"


def summary_variables(a: Assessment) -> dict[str, Any]:
    """What the summary prompt is filled with; everything from the client or the corpus is neutralised."""
    lang, d = a.lang, a.diagnosis
    stage = d.verdict.stage
    return {
        "title": a.framework.title(lang),
        "assessed": neutralise(d.sheet.name or a.framework.subject(lang)),
        "stage": stage.name(lang),
        "stage_about": stage.about(lang),
        "stage_refs": a.ref(f"stage:{stage.id}"),
        "dimensions": [
            {"name": x.dimension.name(lang), "score": "—" if x.score is None else f"{x.score:.0f}"}
            for x in d.dimensions
        ],
        "gaps": [
            {"label": g.criterion.label(lang), "refs": a.ref(f"criterion:{g.criterion.id}")}
            for g in d.gaps[:TOP_GAPS]
        ],
        "actions": [{"text": p.action.text(lang), "refs": a.ref(f"action:{p.action.id}")} for p in d.actions],
        "passages": [
            {
                "n": c.n,
                "title": neutralise(c.passage.chunk.title).replace('"', "'"),
                "text": neutralise(c.passage.chunk.text),
            }
            for c in a.citations
        ],
    }


def write_summary(llm: Any, a: Assessment, prompts: PromptLibrary) -> Summary | None:
    """A cited summary from `llm` (an LLMAnswerer), or None when the model gives nothing usable."""
    from ..answer.llm import LLMError

    rendered = prompts.render(PROMPT, a.lang, **summary_variables(a))
    try:
        reply = llm.complete("", rendered.text)
    except LLMError as exc:
        log.info("summary by %s failed (%s); the report goes without one", llm.backend, exc.reason)
        return None
    cited = rewrite_citations(reply, len(a.citations))
    if not is_grounded(cited):
        log.info("summary by %s cites too little; the report goes without one", llm.backend)
        return None
    # The checker numbers markers by first appearance; the report keeps its own numbers.
    text = re.sub(r"\[(\d+)\]", lambda m: f"[{cited.order[int(m.group(1)) - 1]}]", cited.text)
    return Summary(text, rendered.ref, llm.backend)

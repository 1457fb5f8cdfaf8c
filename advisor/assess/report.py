"""A scored diagnosis with its citations: every framework quote resolved to the indexed passage that holds it.

Citations are the same `Citation(n, Passage)` objects answers carry, numbered in the order the report
first cites them (verdict, gaps, actions and their cases, indicators), so a report's [n] and its sources
list agree in every format. The result is language-bound: the client's language picks every text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..schema import Citation, Lang, Passage
from .framework import ChoiceAnswer, Framework, Source, YesPartlyNo
from .scoring import ConditionResult, Diagnosis
from .strings import YPN_WORDS, answer_text, condition_text, rule_text

TOP_GAPS = 8  # the gaps a report lists; every answer, with its score, is in the appendix


class Locator(Protocol):
    """What the report needs of the core: the indexed passage that holds a quote (`Advisor.locate`)."""

    def locate(self, doc_id: str, quote: str, lang: Lang | None = None) -> Passage | None: ...


class CitationError(LookupError):
    """A framework quote that no indexed passage holds: the corpus or the framework changed."""


class Citer:
    """Numbers passages in order of first use, as answers do; a passage cited again keeps its number."""

    def __init__(self, locator: Locator, lang: Lang) -> None:
        self.locator = locator
        self.lang = lang
        self.citations: list[Citation] = []
        self._numbers: dict[str, int] = {}

    def passage(self, source: Source) -> Passage:
        """The passage to show for a source: its indexed English translation for an English report, if any."""
        original = self.locator.locate(source.doc, source.quote, self.lang)
        if original is None:
            raise CitationError(f"{source.doc}: no indexed passage holds the quote {source.quote!r}")
        if self.lang == "en" and source.en is not None and original.chunk.lang != "en":
            translated = self.locator.locate(source.en.doc, source.en.quote, "en")
            if translated is not None:
                return Passage(translated.chunk, 1.0, original.chunk.text)
        return original

    def cite(self, sources: Sequence[Source]) -> tuple[int, ...]:
        numbers: list[int] = []
        for source in sources:
            passage = self.passage(source)
            key = passage.chunk.chunk_id
            if key not in self._numbers:
                self._numbers[key] = len(self.citations) + 1
                self.citations.append(Citation(self._numbers[key], passage))
            if self._numbers[key] not in numbers:
                numbers.append(self._numbers[key])
        return tuple(numbers)


def markers(numbers: Sequence[int]) -> str:
    """[1][3] for citations 1 and 3."""
    return "".join(f"[{n}]" for n in numbers)


def labels(framework: Framework, lang: Lang) -> dict[str, str]:
    """Short names of criteria and dimensions, and `criterion=answer` → the answer's words."""
    out = {c.id: c.label(lang) for c in framework.criteria}
    out.update({d.id: d.name(lang) for d in framework.dimensions})
    for c in framework.criteria:
        if isinstance(c.answer, ChoiceAnswer):
            out.update({f"{c.id}={o.id}": o.label(lang) for o in c.answer.options})
        elif isinstance(c.answer, YesPartlyNo):
            out.update({f"{c.id}={w}": YPN_WORDS[w][lang] for w in YPN_WORDS})
    return out


@dataclass(frozen=True)
class Summary:
    """The LLM's short narrative on top of the report, with [n] markers of the report's own citations."""

    text: str
    prompt: str  # "assess_summary.zh@hash"
    backend: str


@dataclass(frozen=True)
class Assessment:
    """A diagnosis in the client's language, with its numbered citations (`refs`: element → [n])."""

    diagnosis: Diagnosis
    lang: Lang
    citations: tuple[Citation, ...]
    refs: dict[str, tuple[int, ...]]
    summary: Summary | None = None
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def framework(self) -> Framework:
        return self.diagnosis.framework

    def ref(self, key: str) -> str:
        return markers(self.refs.get(key, ()))

    def condition(self, result: ConditionResult, mark: bool = True) -> str:
        return condition_text(result, self.labels, self.lang, mark)

    def to_dict(self) -> dict[str, Any]:
        """The structured result (`advisor assess --json`); texts are in the client's language."""
        d, lang, fw = self.diagnosis, self.lang, self.framework
        v = d.verdict

        def rule(r: ConditionResult) -> dict[str, Any]:
            return {
                "stage": r.stage.id,
                "rule": self.condition(r, mark=False),
                "met": r.met,
                "actual": r.actual,
                "citations": list(self.refs.get(f"criterion:{r.condition.criterion}", ())),
            }

        return {
            "kind": fw.kind,
            "framework_version": fw.version,
            "lang": lang,
            "name": d.sheet.name,
            "title": fw.title(lang),
            "stage": {
                "id": v.stage.id,
                "name": v.stage.name(lang),
                "about": v.stage.about(lang),
                "citations": list(self.refs.get(f"stage:{v.stage.id}", ())),
            },
            "decided_by": [rule(r) for r in v.decided_by],
            "next_stage": None
            if v.next_stage is None
            else {"id": v.next_stage.id, "name": v.next_stage.name(lang)},
            "blocking": [rule(r) for r in v.blocking],
            "undetermined": [rule(r) for r in v.undetermined],
            "dimensions": [
                {
                    "id": ds.dimension.id,
                    "name": ds.dimension.name(lang),
                    "score": None if ds.score is None else round(ds.score, 1),
                    "answered": len(ds.answered),
                    "questions": len(ds.items),
                }
                for ds in d.dimensions
            ],
            "gaps": [
                {
                    "id": g.criterion.id,
                    "label": g.criterion.label(lang),
                    "dimension": g.criterion.dimension,
                    "answer": g.value,
                    "score": g.score,
                    "gap": round(g.gap, 3),
                    "citations": list(self.refs.get(f"criterion:{g.criterion.id}", ())),
                }
                for g in d.gaps[:TOP_GAPS]
            ],
            "actions": [
                {
                    "id": p.action.id,
                    "text": p.action.text(lang),
                    "citations": list(self.refs.get(f"action:{p.action.id}", ())),
                    "case": None
                    if p.action.case is None
                    else {
                        "text": p.action.case.text(lang),
                        "citations": list(self.refs.get(f"case:{p.action.id}", ())),
                    },
                    "because": list(p.because),
                    "priority": round(p.priority, 3),
                }
                for p in d.actions
            ],
            "indicators": [
                {
                    "id": i.indicator.id,
                    "name": i.indicator.name(lang),
                    "watch": i.indicator.watch(lang),
                    "value": i.value,
                    "state": i.state,
                    "citations": list(self.refs.get(f"indicator:{i.indicator.id}", ())),
                }
                for i in d.indicators
            ],
            "not_judged": {
                "questions": [c.id for c in d.skipped],
                "dimensions": [dim.id for dim in d.unjudged_dimensions],
                "stage_rules": [rule(r) for r in v.undetermined],
            },
            "answers": [
                {
                    "id": item.criterion.id,
                    "dimension": item.criterion.dimension,
                    "answer": item.value,
                    "answer_text": answer_text(item.criterion, item.value, lang),
                    "score": item.score,
                    "rule": rule_text(item.criterion, lang),
                }
                for item in d.items.values()
            ],
            "summary": None
            if self.summary is None
            else {"text": self.summary.text, "prompt": self.summary.prompt, "backend": self.summary.backend},
            "citations": [c.to_dict() for c in self.citations],
        }


def cite_diagnosis(diagnosis: Diagnosis, locator: Locator, lang: Lang) -> Assessment:
    """Resolve and number every citation in the order the report shows them."""
    citer = Citer(locator, lang)
    refs: dict[str, tuple[int, ...]] = {}
    fw, v = diagnosis.framework, diagnosis.verdict

    def cite(key: str, sources: Sequence[Source]) -> None:
        if key not in refs:
            refs[key] = citer.cite(sources)

    cite(f"stage:{v.stage.id}", v.stage.sources)
    if v.next_stage is not None:
        cite(f"stage:{v.next_stage.id}", v.next_stage.sources)
    for result in (*v.decided_by, *v.blocking, *v.undetermined):
        if result.condition.criterion is not None:
            criterion = fw.criteria_by_id[result.condition.criterion]
            cite(f"criterion:{criterion.id}", criterion.sources)
    for gap in diagnosis.gaps[:TOP_GAPS]:
        cite(f"criterion:{gap.criterion.id}", gap.criterion.sources)
    for pick in diagnosis.actions:
        cite(f"action:{pick.action.id}", pick.action.sources)
        if pick.action.case is not None:
            cite(f"case:{pick.action.id}", pick.action.case.sources)
    for status in diagnosis.indicators:
        cite(f"indicator:{status.indicator.id}", status.indicator.sources)
    return Assessment(diagnosis, lang, tuple(citer.citations), refs, labels=labels(fw, lang))

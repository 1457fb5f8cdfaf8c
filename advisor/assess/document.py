"""The report as an export Document, in the client's language: verdict, scores and chart, gaps, actions with
cases, indicators, what could not be judged, every answer with its scoring rule, and the sources."""

from __future__ import annotations

from ..export.model import Block, Bullets, Document, Figure, Heading, Paragraph, SourceList, Table
from .chart import radar_png
from .report import TOP_GAPS, Assessment
from .scoring import ConditionResult, DimensionScore, IndicatorStatus
from .strings import STATES, answer_text, join, number, rule_text, s

RADAR_FILE = "radar.png"


def radar(assessment: Assessment) -> bytes:
    """The radar chart of this assessment's dimension scores."""
    dims = assessment.diagnosis.dimensions
    return radar_png(
        [d.dimension.name(assessment.lang) for d in dims],
        [d.score for d in dims],
        s(assessment.lang, "not_judged_cell"),
    )


def formula(dim: DimensionScore) -> str:
    """How a dimension's score was computed: (w×s + …) ÷ Σw × 100."""
    answered = dim.answered
    if not answered or dim.score is None:
        return "—"
    terms = " + ".join(f"{number(i.criterion.weight)}×{number(i.score or 0)}" for i in answered)
    weight = sum(i.criterion.weight for i in answered)
    return f"({terms}) ÷ {number(weight)} × 100 = {dim.score:.0f}"


def _rules(a: Assessment, results: tuple[ConditionResult, ...]) -> Bullets:
    return Bullets(
        tuple(join(a.lang, a.condition(r), a.ref(f"criterion:{r.condition.criterion}")) for r in results)
    )


def _verdict(a: Assessment) -> list[Block]:
    lang, v = a.lang, a.diagnosis.verdict
    line = join(lang, s(lang, "verdict_line", stage=v.stage.name(lang)), v.stage.about(lang))
    blocks: list[Block] = [
        Heading(s(lang, "verdict")),
        Paragraph(join(lang, line, a.ref(f"stage:{v.stage.id}")), "lead"),
    ]
    if v.decided_by:
        blocks += [Paragraph(s(lang, "decided_by")), _rules(a, v.decided_by)]
    else:
        blocks.append(Paragraph(s(lang, "first_stage")))
    if v.next_stage is None:
        blocks.append(Paragraph(s(lang, "top_stage")))
        return blocks
    following = s(lang, "next_stage", stage=v.next_stage.name(lang), about=v.next_stage.about(lang))
    blocks.append(Paragraph(join(lang, following, a.ref(f"stage:{v.next_stage.id}"))))
    if v.blocking:
        blocks += [Paragraph(s(lang, "blocking")), _rules(a, v.blocking)]
    elif v.undetermined:
        blocks += [
            Paragraph(s(lang, "undetermined", stage=v.next_stage.name(lang))),
            _rules(a, v.undetermined),
        ]
    return blocks


def _dimensions(a: Assessment, png: bytes) -> list[Block]:
    lang = a.lang
    rows = tuple(
        (
            d.dimension.name(lang),
            s(lang, "not_judged_cell") if d.score is None else f"{d.score:.0f}",
            f"{len(d.answered)}/{len(d.items)}",
            formula(d),
        )
        for d in a.diagnosis.dimensions
    )
    return [
        Heading(s(lang, "dimensions")),
        Figure(png, RADAR_FILE, s(lang, "radar_caption")),
        Table(
            (s(lang, "col_dimension"), s(lang, "col_score"), s(lang, "col_answered"), s(lang, "col_how")),
            rows,
        ),
        Paragraph(s(lang, "dimensions_note", scoring=a.framework.scoring(lang)), "muted"),
    ]


def _gaps(a: Assessment) -> list[Block]:
    lang = a.lang
    if not a.diagnosis.gaps:
        return [Heading(s(lang, "gaps")), Paragraph(s(lang, "no_gaps"))]
    items = []
    for gap in a.diagnosis.gaps[:TOP_GAPS]:
        c = gap.criterion
        line = s(
            lang,
            "gap_line",
            label=c.label(lang),
            dimension=a.framework.dimensions_by_id[c.dimension].name(lang),
            answer=answer_text(c, gap.value, lang),
            score=number(gap.score or 0),
            why=c.why(lang),
        )
        items.append(join(lang, line, a.ref(f"criterion:{c.id}")))
    return [Heading(s(lang, "gaps")), Bullets(tuple(items), numbered=True)]


def _actions(a: Assessment) -> list[Block]:
    lang = a.lang
    items = []
    for pick in a.diagnosis.actions:
        action = pick.action
        parts = [join(lang, action.text(lang), a.ref(f"action:{action.id}"))]
        if action.case is not None:
            parts.append(join(lang, s(lang, "case") + action.case.text(lang), a.ref(f"case:{action.id}")))
        if pick.because:
            names = ("、" if lang == "zh" else ", ").join(a.labels[c] for c in pick.because)
            parts.append(s(lang, "because", labels=names))
        else:
            parts.append(s(lang, "baseline"))
        items.append("\n".join(parts))  # one item, one line each: the action, its case, what it addresses
    return [Heading(s(lang, "actions")), Bullets(tuple(items), numbered=True)]


def _indicator(a: Assessment, status: IndicatorStatus) -> str:
    lang, ind = a.lang, status.indicator
    line = join(
        lang,
        f"{ind.name(lang)}{'：' if lang == 'zh' else ': '}{ind.watch(lang)}",
        a.ref(f"indicator:{ind.id}"),
    )
    if ind.criterion is not None and status.value is not None:
        value = answer_text(a.framework.criteria_by_id[ind.criterion], status.value, lang)
        line += " — " + s(lang, "indicator_now", value=value, state=STATES[status.state][lang])
    return line


def _not_judged(a: Assessment) -> list[Block]:
    lang, d = a.lang, a.diagnosis
    blocks: list[Block] = [Heading(s(lang, "not_judged"))]
    joiner = "、" if lang == "zh" else ", "
    if d.skipped:
        blocks.append(Paragraph(s(lang, "skipped")))
        blocks.append(
            Bullets(
                tuple(
                    f"{c.label(lang)}（{a.framework.dimensions_by_id[c.dimension].name(lang)}）"
                    if lang == "zh"
                    else f"{c.label(lang)} ({a.framework.dimensions_by_id[c.dimension].name(lang)})"
                    for c in d.skipped
                )
            )
        )
    if d.unjudged_dimensions:
        blocks.append(
            Paragraph(
                s(lang, "unjudged_dims", names=joiner.join(x.name(lang) for x in d.unjudged_dimensions))
            )
        )
    if d.verdict.undetermined and d.verdict.next_stage is not None:
        blocks.append(Paragraph(s(lang, "undetermined", stage=d.verdict.next_stage.name(lang))))
    missing = [i.indicator.name(lang) for i in d.indicators if i.indicator.criterion and i.state == "unknown"]
    if missing:
        blocks.append(Paragraph(s(lang, "no_value", names=joiner.join(missing))))
    if len(blocks) == 1:
        blocks.append(Paragraph(s(lang, "all_answered")))
    return blocks


def _answers(a: Assessment) -> list[Block]:
    lang = a.lang
    rows = tuple(
        (
            item.criterion.label(lang),
            a.framework.dimensions_by_id[item.criterion.dimension].name(lang),
            answer_text(item.criterion, item.value, lang),
            "—" if item.score is None else number(item.score),
            rule_text(item.criterion, lang),
        )
        for item in a.diagnosis.items.values()
    )
    header = tuple(
        s(lang, k) for k in ("col_question", "col_dimension", "col_answer", "col_score", "col_rule")
    )
    return [Heading(s(lang, "answers")), Table(header, rows)]


def report_document(a: Assessment, png: bytes | None = None, date: str | None = None) -> Document:
    """The whole report; `png` is the radar chart (drawn here when not given), `date` printed when given."""
    lang = a.lang
    blocks: list[Block] = []
    if a.summary is not None:
        blocks += [Heading(s(lang, "summary")), Paragraph(a.summary.text, "lead")]
    blocks += _verdict(a)
    blocks += _dimensions(a, png if png is not None else radar(a))
    blocks += _gaps(a)
    blocks += _actions(a)
    if a.diagnosis.indicators:
        blocks += [
            Heading(s(lang, "indicators")),
            Bullets(tuple(_indicator(a, i) for i in a.diagnosis.indicators)),
        ]
    blocks += _not_judged(a)
    blocks += _answers(a)
    blocks.append(SourceList.from_citations(s(lang, "sources"), a.citations))
    name = a.diagnosis.sheet.name
    subtitle = s(lang, "subtitle", name=name) if name else a.framework.subject(lang)
    return Document(a.framework.title(lang), lang, tuple(blocks), subtitle=subtitle, date=date)

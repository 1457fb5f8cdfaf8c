"""The diagnosis's own words in both languages, and how answers, rules and conditions read in each."""

from __future__ import annotations

from ..schema import Lang
from .answers import Value
from .framework import ChoiceAnswer, Criterion, NumberAnswer
from .scoring import ConditionResult, IndicatorState

STRINGS: dict[str, dict[str, str]] = {
    "subtitle": {"zh": "评估对象：{name}", "en": "Assessed: {name}"},
    "summary": {"zh": "摘要", "en": "Summary"},
    "verdict": {"zh": "阶段判断", "en": "Stage verdict"},
    "verdict_line": {"zh": "当前阶段：{stage}。", "en": "Current stage: {stage}."},
    "decided_by": {"zh": "判断依据：", "en": "What decided it:"},
    "first_stage": {
        "zh": "这是起点阶段：进入下一阶段的条件尚未满足。",
        "en": "This is the starting stage: the conditions of the next stage do not hold yet.",
    },
    "next_stage": {"zh": "下一阶段是“{stage}”：{about}", "en": "The next stage is “{stage}”: {about}"},
    "blocking": {"zh": "尚未达到，因为：", "en": "Not reached yet, because:"},
    "undetermined": {
        "zh": "无法判断是否已达到“{stage}”：以下条件所需的问题被跳过。",
        "en": "Whether “{stage}” is reached cannot be judged: these conditions depend on skipped questions.",
    },
    "top_stage": {"zh": "已达到框架中的最高阶段。", "en": "This is the highest stage of the framework."},
    "dimensions": {"zh": "各维度得分", "en": "Scores by dimension"},
    "dimensions_note": {"zh": "计分方法：{scoring}", "en": "How scores are computed: {scoring}"},
    "col_dimension": {"zh": "维度", "en": "Dimension"},
    "col_score": {"zh": "得分", "en": "Score"},
    "col_answered": {"zh": "已答", "en": "Answered"},
    "col_how": {"zh": "计算", "en": "How"},
    "not_judged_cell": {"zh": "未判断", "en": "not judged"},
    "radar_caption": {"zh": "各维度得分（0–100）", "en": "Scores by dimension (0–100)"},
    "gaps": {"zh": "主要差距（按影响排序）", "en": "Gaps, largest first"},
    "no_gaps": {"zh": "已回答的问题都得到满分。", "en": "Every answered question has full marks."},
    "gap_line": {
        "zh": "{label}（{dimension}）：回答「{answer}」，得分 {score}。{why}",
        "en": "{label} ({dimension}): answered “{answer}”, score {score}. {why}",
    },
    "actions": {"zh": "建议行动", "en": "Recommended actions"},
    "because": {"zh": "针对：{labels}", "en": "Addresses: {labels}"},
    "baseline": {"zh": "适用于所有评估对象的基础做法。", "en": "A baseline practice for everyone assessed."},
    "case": {"zh": "案例：", "en": "Case: "},
    "indicators": {"zh": "需要持续关注的指标", "en": "Indicators to watch"},
    "indicator_now": {"zh": "目前：{value}（{state}）", "en": "Now: {value} ({state})"},
    "not_judged": {"zh": "无法判断的内容", "en": "What could not be judged"},
    "all_answered": {
        "zh": "所有问题都已回答，没有因跳过而无法判断的内容。",
        "en": "Every question was answered; nothing is left unjudged.",
    },
    "skipped": {"zh": "跳过的问题：", "en": "Skipped questions:"},
    "unjudged_dims": {
        "zh": "以下维度回答不足一半，未计分：{names}",
        "en": "These dimensions had under half of their questions answered and were not scored: {names}",
    },
    "no_value": {
        "zh": "以下指标缺少当前数值：{names}",
        "en": "These indicators have no current value: {names}",
    },
    "answers": {"zh": "全部回答与计分", "en": "All answers and how they scored"},
    "col_question": {"zh": "问题", "en": "Question"},
    "col_answer": {"zh": "回答", "en": "Answer"},
    "col_rule": {"zh": "计分规则", "en": "Scoring rule"},
    "sources": {"zh": "出处", "en": "Sources"},
    "skip": {"zh": "跳过", "en": "skipped"},
    "col_change": {"zh": "变化", "en": "Change"},
    "stage_row": {"zh": "阶段", "en": "Stage"},
}
STATES: dict[IndicatorState, dict[str, str]] = {
    "ok": {"zh": "正常", "en": "fine"},
    "watch": {"zh": "需关注", "en": "watch"},
    "alert": {"zh": "已触发预警", "en": "warning threshold crossed"},
    "unknown": {"zh": "未提供", "en": "not given"},
}
YPN_WORDS = {
    "yes": {"zh": "是", "en": "yes"},
    "partly": {"zh": "部分", "en": "partly"},
    "no": {"zh": "否", "en": "no"},
}


def s(lang: Lang, key: str, **values: object) -> str:
    """The report string `key` in `lang`, filled in."""
    text = STRINGS[key][lang]
    return text.format(**values) if values else text


def join(lang: Lang, *parts: str) -> str:
    """Sentences and markers run together: Chinese needs no space after 。, English does."""
    return ("" if lang == "zh" else " ").join(p for p in parts if p)


def number(value: float) -> str:
    """A number as a person writes it: 65, not 65.0; 0.5 stays 0.5."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def answer_text(criterion: Criterion, value: Value | None, lang: Lang) -> str:
    """The client's answer in words: 部分 / 65 % / the option's label / skipped."""
    if value is None:
        return s(lang, "skip")
    answer = criterion.answer
    if isinstance(answer, NumberAnswer):
        return f"{number(float(value))} {answer.unit(lang)}".strip()
    if isinstance(answer, ChoiceAnswer):
        return next(o.label(lang) for o in answer.options if o.id == value)
    return YPN_WORDS[str(value)][lang]


def rule_text(criterion: Criterion, lang: Lang) -> str:
    """How an answer to this question is scored, in one line."""
    answer = criterion.answer
    if isinstance(answer, NumberAnswer):
        unit = answer.unit(lang)
        if answer.linear is not None:
            zero, full = number(answer.linear.zero), number(answer.linear.full)
            return (
                f"{zero} {unit} → 0，{full} {unit} → 1，其间按比例"
                if lang == "zh"
                else f"{zero} {unit} → 0, {full} {unit} → 1, in proportion between"
            )
        parts = []
        for band in answer.bands:
            bounds = [
                f"{sign} {number(value)}"
                for sign, value in (
                    ("≥", band.at_least),
                    (">", band.above),
                    ("<", band.below),
                    ("≤", band.at_most),
                )
                if value is not None
            ]
            parts.append(f"{' '.join(bounds)} {unit} → {number(band.score)}")
        return "；".join(parts) if lang == "zh" else "; ".join(parts)
    if isinstance(answer, ChoiceAnswer):
        joiner = "；" if lang == "zh" else "; "
        return joiner.join(f"{o.label(lang)} → {number(o.score)}" for o in answer.options)
    return (" / " if lang == "en" else "／").join(
        f"{YPN_WORDS[w][lang]} → {number(answer.scores[w])}" for w in ("yes", "partly", "no")
    )


def condition_text(result: ConditionResult, labels: dict[str, str], lang: Lang, mark: bool = True) -> str:
    """A stage rule in words, with what the client's answers gave: 「产业链协作」≥ 0.5（当前 1 ✓）."""
    cond = result.condition
    name = labels[cond.criterion or cond.dimension or ""]
    if cond.any_of:
        wanted = " / ".join(labels.get(f"{cond.criterion}={v}", v) for v in cond.any_of)
        rule = f"「{name}」为 {wanted}" if lang == "zh" else f"“{name}” is {wanted}"
    else:
        rule = (
            f"「{name}」≥ {number(cond.min or 0)}" if lang == "zh" else f"“{name}” ≥ {number(cond.min or 0)}"
        )
    if not mark:
        return rule
    if result.actual is None:
        now = "未回答" if lang == "zh" else "not answered"
    elif isinstance(result.actual, float | int) and not cond.any_of:
        now = number(float(result.actual))
    else:
        now = labels.get(f"{cond.criterion}={result.actual}", str(result.actual))
    sign = {True: "✓", False: "×", None: "?"}[result.met]
    return f"{rule}（当前 {now} {sign}）" if lang == "zh" else f"{rule} (now {now} {sign})"

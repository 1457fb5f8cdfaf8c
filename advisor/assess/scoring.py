"""Scoring, in numbered steps that the report explains to the client:

1. each answered question scores 0–1 by its rule in the framework (yes/partly/no, bands, a line, options);
2. a dimension scores the weighted mean of its answered questions × 100, judged only when at least half of
   its weight was answered;
3. the stage is the last one whose conditions (and all earlier stages' conditions) hold; a condition on a
   skipped question is unknown, and an unknown stops the climb with a note instead of a guess;
4. gaps are answered questions below full marks, ranked by weight × (1 − score);
5. actions are ranked by the sum of the gaps that call for them; 3–7 are kept, baseline ones fill up to 3.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .answers import AnswerSheet, Value
from .framework import (
    Action,
    ChoiceAnswer,
    Condition,
    Criterion,
    Dimension,
    Framework,
    Indicator,
    NumberAnswer,
    Stage,
)

MIN_ACTIONS, MAX_ACTIONS = 3, 7


@dataclass(frozen=True)
class CriterionScore:
    """One question: the client's answer (None: skipped) and its 0–1 score."""

    criterion: Criterion
    value: Value | None
    score: float | None

    @property
    def gap(self) -> float:
        """How much this answer falls short, weighted: 0 for full marks or a skipped question."""
        return 0.0 if self.score is None else self.criterion.weight * (1.0 - self.score)


@dataclass(frozen=True)
class DimensionScore:
    """A dimension's questions and score (0–100); `score` is None when too few questions were answered."""

    dimension: Dimension
    items: tuple[CriterionScore, ...]
    score: float | None

    @property
    def answered(self) -> tuple[CriterionScore, ...]:
        return tuple(i for i in self.items if i.score is not None)


@dataclass(frozen=True)
class ConditionResult:
    """A stage rule and whether it holds (None: a question it needs was skipped)."""

    stage: Stage
    condition: Condition
    met: bool | None
    actual: float | Value | None  # the score or answer it was judged on


@dataclass(frozen=True)
class Verdict:
    """Where the client stands: the stage reached, what decided it, and what stands before the next one."""

    stage: Stage
    decided_by: tuple[ConditionResult, ...]
    next_stage: Stage | None
    blocking: tuple[ConditionResult, ...]  # rules of the next stage that do not hold
    undetermined: tuple[ConditionResult, ...]  # rules of the next stage that could not be judged


@dataclass(frozen=True)
class ActionPick:
    """A recommended action and the gaps behind it (none for a baseline action)."""

    action: Action
    priority: float
    because: tuple[str, ...]  # criterion ids


IndicatorState = Literal["ok", "watch", "alert", "unknown"]


@dataclass(frozen=True)
class IndicatorStatus:
    indicator: Indicator
    value: Value | None
    state: IndicatorState


@dataclass(frozen=True)
class Diagnosis:
    """Everything the scoring decided, before any text or citation is attached."""

    framework: Framework
    sheet: AnswerSheet
    items: dict[str, CriterionScore]
    dimensions: tuple[DimensionScore, ...]
    verdict: Verdict
    gaps: tuple[CriterionScore, ...]
    actions: tuple[ActionPick, ...]
    indicators: tuple[IndicatorStatus, ...]

    @property
    def skipped(self) -> tuple[Criterion, ...]:
        return tuple(i.criterion for i in self.items.values() if i.score is None)

    @property
    def unjudged_dimensions(self) -> tuple[Dimension, ...]:
        return tuple(d.dimension for d in self.dimensions if d.score is None)


def criterion_score(criterion: Criterion, value: Value | None) -> float | None:
    """Step 1: the 0–1 score of one answer by the criterion's own rule."""
    if value is None:
        return None
    answer = criterion.answer
    if isinstance(answer, NumberAnswer):
        number = float(value)
        if answer.linear is not None:
            line = answer.linear
            return min(1.0, max(0.0, (number - line.zero) / (line.full - line.zero)))
        return next((b.score for b in answer.bands if b.holds(number)), 0.0)
    if isinstance(answer, ChoiceAnswer):
        return next(o.score for o in answer.options if o.id == value)
    return answer.scores[str(value)]


def dimension_score(items: tuple[CriterionScore, ...]) -> float | None:
    """Step 2: weighted mean × 100 of the answered questions; None when under half the weight was answered."""
    total = sum(i.criterion.weight for i in items)
    answered = [i for i in items if i.score is not None]
    weight = sum(i.criterion.weight for i in answered)
    if not answered or 2 * weight < total:
        return None
    return 100.0 * sum(i.criterion.weight * (i.score or 0.0) for i in answered) / weight


def _check(
    stage: Stage, cond: Condition, items: dict[str, CriterionScore], dims: dict[str, DimensionScore]
) -> ConditionResult:
    if cond.dimension is not None:
        score = dims[cond.dimension].score
        met = None if score is None else score >= (cond.min or 0.0)
        return ConditionResult(stage, cond, met, score)
    item = items[cond.criterion or ""]
    if item.score is None:
        return ConditionResult(stage, cond, None, None)
    if cond.any_of:
        return ConditionResult(stage, cond, item.value in cond.any_of, item.value)
    return ConditionResult(stage, cond, item.score >= (cond.min or 0.0), item.score)


def verdict(
    framework: Framework, items: dict[str, CriterionScore], dims: dict[str, DimensionScore]
) -> Verdict:
    """Step 3: climb the stages while every rule holds; stop at the first rule that fails or is unknown."""
    reached = framework.stages[0]
    decided: list[ConditionResult] = []
    for stage in framework.stages[1:]:
        results = [_check(stage, c, items, dims) for c in stage.requires]
        if all(r.met for r in results):
            reached = stage
            decided.extend(results)
            continue
        blocking = tuple(r for r in results if r.met is False)
        unknown = tuple(r for r in results if r.met is None)
        return Verdict(reached, tuple(decided), stage, blocking, () if blocking else unknown)
    return Verdict(reached, tuple(decided), None, (), ())


def rank_gaps(
    framework: Framework, items: dict[str, CriterionScore], dims: dict[str, DimensionScore]
) -> tuple[CriterionScore, ...]:
    """Step 4: answered questions below full marks, biggest weighted shortfall first."""
    order = {c.id: n for n, c in enumerate(framework.criteria)}

    def key(item: CriterionScore) -> tuple[float, float, int]:
        dim = dims[item.criterion.dimension].score
        return (-item.gap, dim if dim is not None else 100.0, order[item.criterion.id])

    return tuple(sorted((i for i in items.values() if i.gap > 0), key=key))


def pick_actions(framework: Framework, gaps: tuple[CriterionScore, ...]) -> tuple[ActionPick, ...]:
    """Step 5: actions called for by the gaps, strongest first; baseline actions fill up to three."""
    priority: dict[str, float] = {}
    because: dict[str, list[str]] = {}
    for gap in gaps:
        for action_id in gap.criterion.actions:
            priority[action_id] = priority.get(action_id, 0.0) + gap.gap
            because.setdefault(action_id, []).append(gap.criterion.id)
    order = {a.id: n for n, a in enumerate(framework.actions)}
    ranked = sorted(priority, key=lambda a: (-priority[a], order[a]))[:MAX_ACTIONS]
    picks = [ActionPick(framework.actions_by_id[a], priority[a], tuple(because[a])) for a in ranked]
    for action in framework.actions:
        if len(picks) >= MIN_ACTIONS:
            break
        if action.baseline and action.id not in priority:
            picks.append(ActionPick(action, 0.0, ()))
    return tuple(picks)


def indicator_status(indicator: Indicator, items: dict[str, CriterionScore]) -> IndicatorStatus:
    """Where an indicator stands today, from the answer to its question: full marks ok, zero an alert."""
    item = items.get(indicator.criterion or "")
    if item is None or item.score is None:
        return IndicatorStatus(indicator, None, "unknown")
    state: IndicatorState = "ok" if item.score >= 1 else "alert" if item.score <= 0 else "watch"
    return IndicatorStatus(indicator, item.value, state)


def diagnose(framework: Framework, sheet: AnswerSheet) -> Diagnosis:
    """Score a checked answer sheet against its framework (steps 1–5)."""
    items = {
        c.id: CriterionScore(c, sheet.answers.get(c.id), criterion_score(c, sheet.answers.get(c.id)))
        for c in framework.criteria
    }
    dimensions = tuple(
        DimensionScore(d, members, dimension_score(members))
        for d in framework.dimensions
        for members in [tuple(items[c.id] for c in framework.criteria_of(d.id))]
    )
    dims = {d.dimension.id: d for d in dimensions}
    gaps = rank_gaps(framework, items, dims)
    return Diagnosis(
        framework=framework,
        sheet=sheet,
        items=items,
        dimensions=dimensions,
        verdict=verdict(framework, items, dims),
        gaps=gaps,
        actions=pick_actions(framework, gaps),
        indicators=tuple(indicator_status(i, items) for i in framework.indicators),
    )

"""Assessment frameworks as data: `assessments/<kind>.yaml`, loaded and checked here (pydantic, extra keys refused).

A framework names its dimensions, criteria (question, why, answer type, scoring, sources, actions it
triggers), the stages of its verdict with the conditions that decide them, the actions, and the indicators
to watch. Every reference between them is checked on load, so a typo in a YAML file is an error that names
the file and the key, not a silent gap in a report.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..config import REPO_ROOT
from ..schema import Lang

DEFAULT_DIR = REPO_ROOT / "assessments"
YES_PARTLY_NO = ("yes", "partly", "no")


class FrameworkError(ValueError):
    """A framework file that cannot be used; the message names the file and the key."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Model):
    """One text in both languages."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def __call__(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en


class Quote(_Model):
    """A verbatim sentence of one document (checked against the corpus in tests)."""

    doc: str
    quote: str = Field(min_length=4)


class Source(Quote):
    """A quote from the corpus, optionally with the same passage in an indexed English translation."""

    en: Quote | None = None


class Band(_Model):
    """Numbers within the given bounds score `score`; leave a bound out for an open end."""

    at_least: float | None = None
    above: float | None = None
    below: float | None = None
    at_most: float | None = None
    score: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _bounds(self) -> Band:
        if self.at_least is not None and self.above is not None:
            raise ValueError("give at_least or above, not both")
        if self.below is not None and self.at_most is not None:
            raise ValueError("give below or at_most, not both")
        return self

    def holds(self, value: float) -> bool:
        return (
            (self.at_least is None or value >= self.at_least)
            and (self.above is None or value > self.above)
            and (self.below is None or value < self.below)
            and (self.at_most is None or value <= self.at_most)
        )


class Linear(_Model):
    """Score 0 at `zero`, 1 at `full`, straight in between and clamped (zero > full: lower is better)."""

    zero: float
    full: float

    @model_validator(mode="after")
    def _distinct(self) -> Linear:
        if self.zero == self.full:
            raise ValueError("zero and full must differ")
        return self


class YesPartlyNo(_Model):
    type: Literal["yes_partly_no"]
    scores: dict[str, float] = Field(default_factory=lambda: {"yes": 1.0, "partly": 0.5, "no": 0.0})

    @field_validator("scores", mode="before")
    @classmethod
    def _yaml_booleans(cls, value: Any) -> Any:
        """YAML reads the keys yes / no as booleans; take them back as words."""
        if isinstance(value, dict):
            return {
                ({True: "yes", False: "no"}.get(k, k) if isinstance(k, bool) else k): v
                for k, v in value.items()
            }
        return value

    @model_validator(mode="after")
    def _complete(self) -> YesPartlyNo:
        if set(self.scores) != set(YES_PARTLY_NO) or not all(0 <= s <= 1 for s in self.scores.values()):
            raise ValueError("scores needs yes, partly and no, each between 0 and 1")
        return self


class NumberAnswer(_Model):
    type: Literal["number"]
    min: float
    max: float
    unit: Text
    bands: tuple[Band, ...] = ()
    linear: Linear | None = None

    @model_validator(mode="after")
    def _one_rule(self) -> NumberAnswer:
        if self.min >= self.max:
            raise ValueError("min must be below max")
        if bool(self.bands) == (self.linear is not None):
            raise ValueError("give exactly one of bands or linear")
        return self


class Option(_Model):
    id: str
    label: Text
    score: float = Field(ge=0, le=1)


class ChoiceAnswer(_Model):
    type: Literal["choice"]
    options: tuple[Option, ...] = Field(min_length=2)


AnswerType = Annotated[YesPartlyNo | NumberAnswer | ChoiceAnswer, Field(discriminator="type")]


class Dimension(_Model):
    id: str
    name: Text
    about: Text


class Criterion(_Model):
    id: str
    dimension: str
    label: Text  # a short name for tables, gaps and the stage rules
    question: Text
    why: Text
    answer: AnswerType
    weight: float = Field(default=1.0, gt=0)
    sources: tuple[Source, ...] = Field(min_length=1)
    actions: tuple[str, ...] = ()  # ids of the actions a weak answer here calls for


class Condition(_Model):
    """One rule of a stage: a criterion's score (`min`) or answer (`any_of`), or a dimension's score (`min`)."""

    criterion: str | None = None
    dimension: str | None = None
    min: float | None = None
    any_of: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _shape(self) -> Condition:
        if (self.criterion is None) == (self.dimension is None):
            raise ValueError("name exactly one of criterion or dimension")
        if (self.min is None) == (not self.any_of):
            raise ValueError("give exactly one of min or any_of")
        if self.dimension is not None and self.any_of:
            raise ValueError("a dimension condition takes min (a score 0–100)")
        return self


class Stage(_Model):
    id: str
    name: Text
    about: Text
    sources: tuple[Source, ...] = Field(min_length=1)
    requires: tuple[Condition, ...] = ()  # all must hold, on top of every earlier stage's


class Case(_Model):
    """A case from the corpus with its figures: the paraphrase and the passages it paraphrases."""

    text: Text
    sources: tuple[Source, ...] = Field(min_length=1)


class Action(_Model):
    id: str
    text: Text
    sources: tuple[Source, ...] = Field(min_length=1)
    case: Case | None = None
    baseline: bool = False  # recommended to everyone when fewer than three actions are called for


class Indicator(_Model):
    id: str
    name: Text
    watch: Text  # what to measure and the threshold that calls for action
    sources: tuple[Source, ...] = Field(min_length=1)
    criterion: str | None = None  # the question whose answer shows where the client stands today


class Framework(_Model):
    kind: str
    version: int = 1
    order: int = 100  # where it stands in the list a client picks from
    title: Text
    subject: Text  # what is assessed: 园区 / a park
    intro: Text
    scoring: Text  # how scores are computed, in words, for the report
    dimensions: tuple[Dimension, ...] = Field(min_length=3)
    criteria: tuple[Criterion, ...] = Field(min_length=1)
    stages: tuple[Stage, ...] = Field(min_length=2)
    actions: tuple[Action, ...] = Field(min_length=3)
    indicators: tuple[Indicator, ...] = ()

    @model_validator(mode="after")
    def _references(self) -> Framework:
        _unique("dimension", [d.id for d in self.dimensions])
        _unique("criterion", [c.id for c in self.criteria])
        _unique("stage", [s.id for s in self.stages])
        _unique("action", [a.id for a in self.actions])
        dims, crits, acts = (
            {d.id for d in self.dimensions},
            {c.id: c for c in self.criteria},
            {a.id for a in self.actions},
        )
        empty = dims - {c.dimension for c in self.criteria}
        if empty:
            raise ValueError(f"dimension(s) without questions: {', '.join(sorted(empty))}")
        if sum(a.baseline for a in self.actions) < 3:
            raise ValueError("mark at least three actions baseline: true (they fill a report up to three)")
        for c in self.criteria:
            _known(f"criterion {c.id}: dimension", c.dimension, dims)
            for action in c.actions:
                _known(f"criterion {c.id}: action", action, acts)
        if self.stages[0].requires:
            raise ValueError(f"stage {self.stages[0].id}: the first stage is the starting point, no requires")
        for stage in self.stages:
            for cond in stage.requires:
                if cond.dimension is not None:
                    _known(f"stage {stage.id}: dimension", cond.dimension, dims)
                    continue
                assert cond.criterion is not None
                _known(f"stage {stage.id}: criterion", cond.criterion, set(crits))
                answer = crits[cond.criterion].answer
                allowed = (
                    {o.id for o in answer.options}
                    if isinstance(answer, ChoiceAnswer)
                    else set(YES_PARTLY_NO)
                    if isinstance(answer, YesPartlyNo)
                    else set()
                )
                for value in cond.any_of:
                    _known(f"stage {stage.id}: answer of {cond.criterion}", value, allowed)
        for indicator in self.indicators:
            if indicator.criterion is not None:
                _known(f"indicator {indicator.id}: criterion", indicator.criterion, set(crits))
        return self

    @cached_property
    def criteria_by_id(self) -> dict[str, Criterion]:
        return {c.id: c for c in self.criteria}

    @cached_property
    def dimensions_by_id(self) -> dict[str, Dimension]:
        return {d.id: d for d in self.dimensions}

    @cached_property
    def actions_by_id(self) -> dict[str, Action]:
        return {a.id: a for a in self.actions}

    def criteria_of(self, dimension: str) -> list[Criterion]:
        return [c for c in self.criteria if c.dimension == dimension]


def _unique(what: str, ids: Sequence[str]) -> None:
    seen = {i for i in ids if ids.count(i) > 1}
    if seen:
        raise ValueError(f"{what} id used twice: {', '.join(sorted(seen))}")


def _known(where: str, value: str, known: set[str]) -> None:
    if value not in known:
        raise ValueError(f"{where} {value!r} is not defined (known: {', '.join(sorted(known)) or 'none'})")


def load_framework(path: Path) -> Framework:
    """One framework file, validated; FrameworkError names the file and the failing key."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise FrameworkError(f"{path.name}: cannot read it as YAML ({exc})") from exc
    try:
        framework = Framework.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in exc.errors()
        )
        raise FrameworkError(f"{path.name}: {problems}") from None
    if framework.kind != path.stem:
        raise FrameworkError(f"{path.name}: kind {framework.kind!r} must match the file name {path.stem!r}")
    return framework


def load_frameworks(directory: Path = DEFAULT_DIR) -> dict[str, Framework]:
    """Every `<kind>.yaml` in `directory`, by kind, in the order a client picks from (`order`, then kind)."""
    files = sorted(p for p in directory.glob("*.yaml") if p.is_file())
    if not files:
        raise FrameworkError(f"no assessment frameworks (*.yaml) in {directory}")
    frameworks = sorted((load_framework(p) for p in files), key=lambda f: (f.order, f.kind))
    return {f.kind: f for f in frameworks}

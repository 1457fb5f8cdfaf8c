"""A client's answers (an answers file, the web form or the terminal), checked against their framework.

Every problem is an `AnswersError` whose message names the key: an unknown question, a number out of
range, a word where a number belongs. A skipped question is simply absent (or null / empty).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml

from ..schema import LANGS, Lang
from .framework import YES_PARTLY_NO, ChoiceAnswer, Criterion, Framework, NumberAnswer

Value = str | float  # "yes" / "partly" / "no", an option id, or a number
TOP_LEVEL_KEYS = ("kind", "lang", "name", "answers", "expect")
_YPN_WORDS = {"是": "yes", "部分": "partly", "否": "no", "y": "yes", "p": "partly", "n": "no"}


class AnswersError(ValueError):
    """Answers that cannot be scored; the message names the key and says what is allowed."""


@dataclass(frozen=True)
class Expectation:
    """What an example file says its report must show (the tests check it)."""

    stage: str
    top_gaps: tuple[str, ...] = ()


@dataclass(frozen=True)
class AnswerSheet:
    """Checked answers for one framework, in the client's language; skipped questions are absent."""

    kind: str
    lang: Lang
    answers: dict[str, Value] = field(default_factory=dict)
    name: str = ""
    expect: Expectation | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "lang": self.lang, "name": self.name, "answers": dict(self.answers)}


def _fmt(number: float) -> str:
    return f"{number:g}"


def check_value(criterion: Criterion, raw: Any) -> Value | None:
    """The answer to one question in its canonical form, None when skipped; AnswersError when it is wrong."""
    key = f"answers.{criterion.id}"
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    answer = criterion.answer
    if isinstance(answer, NumberAnswer):
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise AnswersError(
                f"{key}: expected a number between {_fmt(answer.min)} and {_fmt(answer.max)}"
                f" ({answer.unit.en}), got {raw!r}"
            )
        if not answer.min <= raw <= answer.max:
            raise AnswersError(
                f"{key}: {_fmt(raw)} is out of range; expected {_fmt(answer.min)}–{_fmt(answer.max)}"
                f" ({answer.unit.en})"
            )
        return float(raw)
    if isinstance(answer, ChoiceAnswer):
        ids = [o.id for o in answer.options]
        if not isinstance(raw, str) or raw.strip() not in ids:
            raise AnswersError(f"{key}: expected one of {', '.join(ids)}, got {raw!r}")
        return raw.strip()
    if isinstance(raw, bool):  # YAML reads a bare yes / no as a boolean
        return "yes" if raw else "no"
    word = raw.strip() if isinstance(raw, str) else ""
    value = _YPN_WORDS.get(word.lower(), word.lower())
    if value not in YES_PARTLY_NO:
        raise AnswersError(f"{key}: expected yes, partly or no (y / p / n, 是 / 部分 / 否), got {raw!r}")
    return value


def check_answers(framework: Framework, raw: Mapping[str, Any]) -> dict[str, Value]:
    """Every given answer checked, in the framework's question order; unknown keys are an error."""
    unknown = [k for k in raw if k not in framework.criteria_by_id]
    if unknown:
        known = ", ".join(framework.criteria_by_id)
        raise AnswersError(
            f"answers.{unknown[0]}: no such question in the {framework.kind} framework (questions: {known})"
        )
    checked: dict[str, Value] = {}
    for criterion in framework.criteria:
        value = check_value(criterion, raw.get(criterion.id))
        if value is not None:
            checked[criterion.id] = value
    return checked


def parse_sheet(data: Any, frameworks: Mapping[str, Framework], lang: Lang | None = None) -> AnswerSheet:
    """An answers document (already parsed from YAML/JSON) checked against its framework."""
    if not isinstance(data, Mapping):
        raise AnswersError(f"the answers file must be a mapping with {', '.join(TOP_LEVEL_KEYS)}")
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            raise AnswersError(f"{key}: unknown key (allowed: {', '.join(TOP_LEVEL_KEYS)})")
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in frameworks:
        raise AnswersError(f"kind: expected one of {', '.join(frameworks)}, got {kind!r}")
    chosen = lang or data.get("lang") or "zh"
    if chosen not in LANGS:
        raise AnswersError(f"lang: expected one of {', '.join(LANGS)}, got {chosen!r}")
    chosen = cast(Lang, chosen)
    raw = data.get("answers") or {}
    if not isinstance(raw, Mapping):
        raise AnswersError("answers: expected a mapping of question id → answer")
    framework = frameworks[kind]
    name = data.get("name") or ""
    if not isinstance(name, str):
        raise AnswersError(f"name: expected text, got {name!r}")
    return AnswerSheet(
        kind, chosen, check_answers(framework, raw), name.strip(), _expectation(data.get("expect"), framework)
    )


def _expectation(raw: Any, framework: Framework) -> Expectation | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or set(raw) - {"stage", "top_gaps"} or "stage" not in raw:
        raise AnswersError("expect: expected a mapping with stage and (optionally) top_gaps")
    stages = [s.id for s in framework.stages]
    if raw["stage"] not in stages:
        raise AnswersError(f"expect.stage: expected one of {', '.join(stages)}, got {raw['stage']!r}")
    gaps = tuple(raw.get("top_gaps") or ())
    for gap in gaps:
        if gap not in framework.criteria_by_id:
            raise AnswersError(f"expect.top_gaps: no such question {gap!r}")
    return Expectation(raw["stage"], gaps)


def load_sheet(path: Path, frameworks: Mapping[str, Framework], lang: Lang | None = None) -> AnswerSheet:
    """Read an answers file (YAML or JSON) and check it; AnswersError says what is wrong and where."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AnswersError(f"answers file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AnswersError(f"{path}: cannot be read ({exc})") from None
    except yaml.YAMLError as exc:
        raise AnswersError(f"{path}: not valid YAML or JSON ({exc})") from None
    return parse_sheet(data, frameworks, lang)

"""Saved assessments under `$ADVISOR_HOME/assessments/`: one JSON file each, written atomically.

A saved assessment keeps the answers (what reopening scores again, with the framework as it is now) and
a record of the stage and scores it had when saved (what the list shows).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..export import write_atomic
from ..ingest.load import slugify
from ..schema import LANGS, Lang
from .answers import AnswersError, AnswerSheet, Value, check_answers
from .framework import Framework
from .report import Assessment


def now() -> str:
    """The moment of saving, as stored in `saved_at` (UTC, to the second)."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


class StoreError(LookupError):
    """No saved assessment by that name, or one that no longer fits its framework."""


@dataclass(frozen=True)
class Saved:
    """One saved assessment."""

    id: str
    name: str
    kind: str
    lang: Lang
    saved_at: str
    answers: dict[str, Value] = field(default_factory=dict)
    stage: str = ""
    scores: dict[str, float | None] = field(default_factory=dict)

    def sheet(self, frameworks: Mapping[str, Framework]) -> AnswerSheet:
        """The answers checked again against today's framework."""
        framework = frameworks.get(self.kind)
        if framework is None:
            raise StoreError(f"{self.id}: no {self.kind!r} framework any more")
        try:
            answers = check_answers(framework, self.answers)
        except AnswersError as exc:
            raise StoreError(f"{self.id}: the saved answers no longer fit the framework ({exc})") from None
        return AnswerSheet(self.kind, self.lang, answers, self.name)


class AssessmentStore:
    """The folder of saved assessments; the same name saved again replaces the earlier one."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, assessment_id: str) -> Path:
        return self.directory / f"{assessment_id}.json"

    def save(self, assessment: Assessment, name: str, saved_at: str) -> Saved:
        """Store the assessment under `name` (its id is the name as a slug); returns what was stored."""
        if not name.strip():
            raise StoreError("give the assessment a name to save it under")
        d = assessment.diagnosis
        record = Saved(
            id=slugify(name),
            name=name.strip(),
            kind=d.framework.kind,
            lang=assessment.lang,
            saved_at=saved_at,
            answers=dict(d.sheet.answers),
            stage=d.verdict.stage.id,
            scores={x.dimension.id: None if x.score is None else round(x.score, 1) for x in d.dimensions},
        )
        data = json.dumps(asdict(record), ensure_ascii=False, indent=1).encode("utf-8")
        write_atomic(self._path(record.id), data)
        return record

    def list(self) -> list[Saved]:
        """Every saved assessment, newest first (unreadable files are left out)."""
        records = []
        for path in sorted(self.directory.glob("*.json")):
            try:
                records.append(_read(path))
            except (OSError, ValueError, TypeError, KeyError):
                continue
        return sorted(records, key=lambda r: (r.saved_at, r.id), reverse=True)

    def get(self, ref: str) -> Saved:
        """A saved assessment by id or by the name it was saved under."""
        path = self._path(slugify(ref))
        if not path.is_file():
            known = ", ".join(r.id for r in self.list()) or "none saved yet"
            raise StoreError(f"no saved assessment {ref!r} (saved: {known})")
        try:
            return _read(path)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise StoreError(f"{path.name} cannot be read ({exc})") from None


def _read(path: Path) -> Saved:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if data.get("lang") not in LANGS:
        raise ValueError(f"unknown language {data.get('lang')!r}")
    return Saved(**data)

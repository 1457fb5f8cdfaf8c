"""Two assessments of the same kind side by side (this year vs last, park A vs park B), dimension by dimension."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..schema import Lang
from .report import Assessment
from .strings import s


@dataclass(frozen=True)
class Difference:
    """One dimension in both assessments; `change` is b − a (None when either was not judged)."""

    dimension: str
    name: str
    a: float | None
    b: float | None

    @property
    def change(self) -> float | None:
        return None if self.a is None or self.b is None else self.b - self.a


@dataclass(frozen=True)
class Comparison:
    a: Assessment
    b: Assessment
    rows: tuple[Difference, ...]

    def table(
        self, lang: Lang, a_name: str, b_name: str
    ) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
        """Header and rows for showing the comparison: the stage first, then every dimension."""

        def score(value: float | None) -> str:
            return s(lang, "not_judged_cell") if value is None else f"{value:.0f}"

        def change(value: float | None) -> str:
            return "—" if value is None else f"{value:+.0f}"

        header = (s(lang, "col_dimension"), a_name, b_name, s(lang, "col_change"))
        stages = (
            s(lang, "stage_row"),
            self.a.diagnosis.verdict.stage.name(lang),
            self.b.diagnosis.verdict.stage.name(lang),
            "",
        )
        rows = tuple((r.name, score(r.a), score(r.b), change(r.change)) for r in self.rows)
        return header, (stages, *rows)

    def to_dict(self) -> dict[str, Any]:
        def side(x: Assessment) -> dict[str, Any]:
            return {"name": x.diagnosis.sheet.name, "stage": x.diagnosis.verdict.stage.id}

        return {
            "kind": self.a.framework.kind,
            "a": side(self.a),
            "b": side(self.b),
            "dimensions": [
                {
                    "id": r.dimension,
                    "name": r.name,
                    "a": None if r.a is None else round(r.a, 1),
                    "b": None if r.b is None else round(r.b, 1),
                    "change": None if r.change is None else round(r.change, 1),
                }
                for r in self.rows
            ],
        }


def compare(a: Assessment, b: Assessment) -> Comparison:
    """Per-dimension scores of `a` and `b`, which must use the same framework; texts in `b`'s language."""
    if a.framework.kind != b.framework.kind:
        raise ValueError(f"cannot compare a {a.framework.kind} assessment with a {b.framework.kind} one")
    scores_a = {x.dimension.id: x.score for x in a.diagnosis.dimensions}
    rows = tuple(
        Difference(x.dimension.id, x.dimension.name(b.lang), scores_a.get(x.dimension.id), x.score)
        for x in b.diagnosis.dimensions
    )
    return Comparison(a, b, rows)

"""The CI gate: compare a run's figures with the thresholds in a TOML file; any breach fails the run.

thresholds.toml holds [min] and [max] tables. A key is a metric of the advisor's "all" group ("recall@5"),
a metric of another group ("cross-lingual:en/recall@5"), or a latency figure ("latency/total/p95", in ms).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class GateError(ValueError):
    """A thresholds file that cannot be used."""


@dataclass(frozen=True)
class GateResult:
    passed: bool
    failures: list[str]
    checked: int

    def to_dict(self, thresholds: Path) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "failures": self.failures,
            "checked": self.checked,
            "thresholds": str(thresholds),
        }


def load_thresholds(path: Path) -> dict[str, dict[str, float]]:
    """{"min": {key: value}, "max": {key: value}} from a TOML file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise GateError(f"thresholds file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise GateError(f"{path}: {exc}") from exc
    unknown = set(data) - {"min", "max"}
    if unknown:
        raise GateError(f"{path}: unknown table(s) {', '.join(sorted(unknown))}; use [min] and [max]")
    out: dict[str, dict[str, float]] = {}
    for bound in ("min", "max"):
        table = data.get(bound, {})
        for key, value in table.items():
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise GateError(f"{path}: [{bound}] {key} must be a number")
        out[bound] = {k: float(v) for k, v in table.items()}
    return out


def lookup(key: str, summary: dict[str, Any], latency: dict[str, Any], mode: str = "hybrid") -> float | None:
    """The measured value a threshold key names (None when the run has no such figure)."""
    parts = key.split("/")
    if parts[0] == "latency" and len(parts) == 3:
        value = latency.get(mode, {}).get(parts[1], {}).get(parts[2])
    elif len(parts) == 2:
        value = summary.get(mode, {}).get(parts[0], {}).get(parts[1])
    else:
        value = summary.get(mode, {}).get("all", {}).get(key)
    return None if value is None else float(value)


def check(
    thresholds: dict[str, dict[str, float]], summary: dict[str, Any], latency: dict[str, Any]
) -> GateResult:
    """Every threshold against the advisor's figures; a figure the run lacks is a failure, not a pass."""
    failures: list[str] = []
    checked = 0
    for bound, table in thresholds.items():
        for key, limit in table.items():
            checked += 1
            value = lookup(key, summary, latency)
            if value is None:
                failures.append(f"{key}: not measured in this run (threshold {bound} {limit})")
            elif bound == "min" and value < limit:
                failures.append(f"{key} = {value:.3f}, below the minimum {limit}")
            elif bound == "max" and value > limit:
                failures.append(f"{key} = {value:.3f}, above the maximum {limit}")
    return GateResult(not failures, failures, checked)

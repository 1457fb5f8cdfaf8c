"""Plumbing of the question's stages: a timer per stage, and passing a draft stream's deltas on."""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager

from .schema import Delta, Draft, Progress


class StageTimer:
    """Milliseconds per named stage of one question, for `Answer.timings_ms`."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.ms: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        begin = time.perf_counter()
        try:
            yield
        finally:
            self.ms[stage] = self.ms.get(stage, 0.0) + (time.perf_counter() - begin) * 1000

    def timings(self) -> dict[str, float]:
        """Every stage, plus `generate` (everything after retrieval) and `total`."""
        out = dict(self.ms)
        out["generate"] = sum(self.ms.get(s, 0.0) for s in ("read", "gate", "draft", "finish"))
        out["total"] = (time.perf_counter() - self.started) * 1000
        return out


def relay(stream: Generator[Progress, None, Draft], deltas: list[Delta]) -> Generator[Progress, None, Draft]:
    """Pass a draft stream's events on, keeping its text deltas in `deltas`; return its Draft."""
    try:
        while True:
            event = next(stream)
            if isinstance(event, Delta):
                deltas.append(event)
            yield event
    except StopIteration as stop:
        return stop.value

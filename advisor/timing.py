"""How long each named stage of one question took, for `Answer.timings_ms`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


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

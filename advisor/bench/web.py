"""The web phase: one `advisor serve` process — start to first answer, memory, N users at once."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from ..config import Settings
from .measure import Log, rss_mb
from .processes import advisor_env, free_port, web_worker
from .users import ask, summarise, users_asking


def bench_web(
    settings: Settings,
    questions: Sequence[str],
    users: int,
    per_user: int,
    log: Log,
    **env: str,
) -> dict[str, Any]:
    """Web server: start to first answer, steady memory, and N users asking at once through gradio_client;
    `env` adds settings for the worker (ADVISOR_READER="none": a worker without the reader)."""
    from gradio_client import Client

    started = time.perf_counter()
    with web_worker(advisor_env(settings, **env), free_port()) as (url, proc, ready_s):
        first = ask(Client(url, verbose=False), url, questions[0])
        if first.error:
            return {"error": first.error}
        first_answer_s = time.perf_counter() - started
        rss_after_first = rss_mb(proc.pid)
        t0 = time.perf_counter()
        results = users_asking([url], users, questions, lambda asked: asked < per_user)
        result = {
            "ready_s": round(ready_s, 2),
            "first_answer_s": round(first_answer_s, 2),
            "rss_mb_after_first_answer": rss_after_first,
            "rss_mb_after_load": rss_mb(proc.pid),
            "concurrency": {"users": users, **summarise(results, time.perf_counter() - t0)},
        }
    log(f"web{' ' + str(env) if env else ''}: {result}")
    return result

"""Simulated users of the web page: threads asking through the `/ask` API, as a browser's queue does."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .measure import percentiles

# The sources panel names the index version an answer came from (see `web/render.py`).
_VERSION = re.compile(r'data-index-version="(\d+)"')


@dataclass(frozen=True)
class Asked:
    """One question through the API: which worker, when, how long, what came back."""

    worker: str
    started: float  # perf_counter seconds
    ms: float
    output: str
    error: str | None = None

    @property
    def version(self) -> int | None:
        found = _VERSION.findall(self.output)
        return int(found[-1]) if found else None


def ask(client: Any, worker: str, question: str) -> Asked:
    started = time.perf_counter()
    try:
        output = client.predict(question, "zh", api_name="/ask")
        return Asked(worker, started, (time.perf_counter() - started) * 1000, str(output))
    except Exception as exc:  # every failure counts, whatever raised it
        return Asked(
            worker, started, (time.perf_counter() - started) * 1000, "", f"{type(exc).__name__}: {exc}"[:200]
        )


def users_asking(
    urls: Sequence[str], users: int, questions: Sequence[str], keep_going: Callable[[int], bool]
) -> list[Asked]:
    """`users` threads, user i on worker i mod len(urls), each asking while `keep_going(asked so far)`."""
    from gradio_client import Client

    results: list[Asked] = []
    lock = threading.Lock()

    def user(number: int) -> None:
        url = urls[number % len(urls)]
        client = Client(url, verbose=False)
        asked = 0
        while keep_going(asked):
            result = ask(client, url, questions[(number * 7 + asked) % len(questions)])
            asked += 1
            with lock:
                results.append(result)

    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=900)
    return results


def summarise(results: Sequence[Asked], wall_s: float) -> dict[str, Any]:
    ok = [r for r in results if r.error is None]
    return {
        "requests": len(results),
        "errors": len(results) - len(ok),
        "error_samples": [r.error for r in results if r.error][:3],
        "throughput_per_s": round(len(ok) / max(wall_s, 1e-9), 2),
        "latency_ms": percentiles([r.ms for r in ok]),
    }

"""Warm latency: bare query encoding and `ask` on the same questions, and the ratio between them.

"Warm" means models loaded but every question and sentence encoded afresh: caches are cleared first.
The ratio is ask p50 (without the reader's pass, when there is one) over the sum of the encoders' p50s.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..core import Advisor
from .measure import percentiles


def clear_caches(advisor: Advisor) -> None:
    """Forget encoded questions and sentences, so a phase measures encoding too."""
    for cache in [getattr(e, "query_cache", None) for e in advisor.embedders] + [
        advisor.extractive.sentence_cache
    ]:
        if cache is not None:
            cache.clear()


def encoder_p50(advisor: Advisor, questions: Sequence[str]) -> dict[str, dict[str, float]]:
    """Each encoder alone, one fresh question at a time: what `ask` cannot go below."""
    results: dict[str, dict[str, float]] = {}
    for embedder in advisor.embedders:
        embedder.embed_query("warm-up question")
        clear_caches(advisor)
        samples = []
        for question in questions:
            started = time.perf_counter()
            embedder.embed_query(question)
            samples.append((time.perf_counter() - started) * 1000)
        results[embedder.key] = percentiles(samples)
    clear_caches(advisor)
    return results


def timed_asks(advisor: Advisor, questions: Sequence[str]) -> dict[str, Any]:
    """Ask each question once (fresh encodings) and summarise total, retrieval and reader times."""
    for warm in ("warm-up question about industrial clusters", "预热：产业集群是什么"):
        advisor.ask(warm)
    clear_caches(advisor)
    total, retrieve, read, without_read, versions = [], [], [], [], set()
    for question in questions:
        answer = advisor.ask(question)
        ms = answer.timings_ms
        total.append(ms["total"])
        retrieve.append(ms["retrieve"])
        read.append(ms.get("read", 0.0))
        without_read.append(ms["total"] - ms.get("read", 0.0))
        versions.add(answer.index_version)
    result: dict[str, Any] = {
        "ask_ms": percentiles(total),
        "retrieve_ms": percentiles(retrieve),
        "ask_without_read_ms": percentiles(without_read),
        "index_versions": sorted(v for v in versions if v is not None),
    }
    if any(r > 1.0 for r in read):  # a reader stage is there: its own share of the time
        result["read_ms"] = percentiles(read)
        result["read_share_of_ask_p50"] = round(
            float(np.median(read)) / max(float(np.median(total)), 1e-9), 3
        )
    return result


def latency_block(advisor: Advisor, sets: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """Per question set, in this order on the same process: bare encoders, then ask; and their ratio."""
    block: dict[str, Any] = {}
    for name, questions in sets.items():
        encoders = encoder_p50(advisor, questions)
        asks = timed_asks(advisor, questions)
        encoding = sum(e["p50"] for e in encoders.values())
        block[name] = {
            "questions": len(questions),
            "mean_chars": round(sum(len(q) for q in questions) / max(len(questions), 1)),
            "encoders_ms": encoders,
            **asks,
            "ratio_ask_to_encoding_p50": round(asks["ask_without_read_ms"]["p50"] / max(encoding, 1e-9), 2),
        }
    return block

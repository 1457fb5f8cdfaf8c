"""Warm latency: bare query encoding and `ask` on the same questions, and the ratio between them.

"Warm" means models loaded but every question and sentence encoded afresh: caches are cleared first.
Each question is encoded by every encoder alone and then asked, back to back, so both see the same load
on a shared machine. The ratio is ask p50 (without the reader's pass, when there is one) over the sum of
the encoders' p50s.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..core import Advisor
from .measure import percentiles


def clear_caches(advisor: Advisor) -> None:
    """Forget encoded questions and sentences, so a measurement includes encoding."""
    for cache in [getattr(e, "query_cache", None) for e in advisor.embedders] + [
        advisor.extractive.sentence_cache
    ]:
        if cache is not None:
            cache.clear()


def paired_timings(advisor: Advisor, questions: Sequence[str]) -> dict[str, Any]:
    """Per question: each encoder alone (what `ask` cannot go below), then `ask` itself; summarised.

    Measured as a web worker answers after its warm-up: Chroma's indexes and jieba's whole dictionary loaded
    (a cold process searches the version's flat vectors instead: `flat_search_ms`)."""
    from ..text import load_dictionary

    advisor.index.warm_dense()
    load_dictionary()
    for warm in ("warm-up question about industrial clusters", "预热：产业集群是什么"):
        advisor.ask(warm)
    encoders: dict[str, list[float]] = {e.key: [] for e in advisor.embedders}
    total, retrieve, read, without_read, versions = [], [], [], [], set()
    for question in questions:
        clear_caches(advisor)
        for embedder in advisor.embedders:
            started = time.perf_counter()
            embedder.embed_query(question)
            encoders[embedder.key].append((time.perf_counter() - started) * 1000)
        clear_caches(advisor)
        answer = advisor.ask(question)
        ms = answer.timings_ms
        total.append(ms["total"])
        retrieve.append(ms["retrieve"])
        read.append(ms.get("read", 0.0))
        without_read.append(ms["total"] - ms.get("read", 0.0))
        versions.add(answer.index_version)
    result: dict[str, Any] = {
        "encoders_ms": {key: percentiles(samples) for key, samples in encoders.items()},
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


def flat_search_ms(advisor: Advisor, questions: Sequence[str]) -> dict[str, float] | None:
    """What a cold process pays for dense search instead of Chroma's: every encoder's flat scan of the
    current version, in every language, per question (encoding not included); None without flat files."""
    snapshot = advisor.index.snapshot()
    flats = [(e, flat) for e in advisor.embedders if (flat := snapshot.flat(e.key)) is not None]
    if len(flats) < len(advisor.embedders):
        return None
    langs = sorted(set(snapshot.chunks.langs))
    samples = []
    for question in questions:
        vectors = [(flat, e.embed_query(question)) for e, flat in flats]
        started = time.perf_counter()
        for flat, vector in vectors:
            for lang in langs:
                flat.search(vector, advisor.settings.candidates, lang)
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


def latency_block(advisor: Advisor, sets: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """Per question set: bare encoders and ask on the same questions, and their ratio."""
    block: dict[str, Any] = {}
    for name, questions in sets.items():
        timings = paired_timings(advisor, questions)
        encoding = sum(e["p50"] for e in timings["encoders_ms"].values())
        block[name] = {
            "questions": len(questions),
            "mean_chars": round(sum(len(q) for q in questions) / max(len(questions), 1)),
            **timings,
            "ratio_ask_to_encoding_p50": round(
                timings["ask_without_read_ms"]["p50"] / max(encoding, 1e-9), 2
            ),
        }
    return block

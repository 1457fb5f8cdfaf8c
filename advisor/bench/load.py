"""Server mode under load: two web workers on one `chroma run` server, users asking, an ingest elsewhere.

Every process shares the Chroma server and one shared folder (ADVISOR_SHARED_DIR), each has its own
ADVISOR_HOME. While the users ask, a separate `advisor ingest` adds new documents; the phase measures
failed questions, which index versions answers came from, and how long after the ingest each worker
finds a new document without a restart.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from contextlib import ExitStack
from itertools import pairwise
from pathlib import Path
from typing import Any

from ..config import Settings
from ..schema import Chunk
from .measure import Log, rss_mb
from .processes import advisor_env, at_home, chroma_server, free_port, web_worker
from .synthetic import synthetic_chunks
from .users import Asked, ask, summarise, users_asking

FRESHNESS_LIMIT_S = 10.0


def new_documents(real: Sequence[Chunk], count: int, folder: Path) -> list[str]:
    """`count` new two-paragraph documents of recombined real sentences, each with a unique word to ask for."""
    folder.mkdir(parents=True)
    chunks, _ = synthetic_chunks(real, count * 2, seed=2026)
    words = []
    for number in range(count):
        word = "loadmark" + "".join(chr(ord("a") + int(d)) for d in f"{number:04d}")
        words.append(word)
        body = "\n\n".join(c.text for c in chunks[2 * number : 2 * number + 2])
        front = f"---\nid: loadtest-{number:04d}\ntitle: Load test document {number}\nkind: synthetic\n---\n"
        (folder / f"loadtest-{number:04d}.md").write_text(
            f"{front}{word} {word} 园区。\n\n{body}\n", encoding="utf-8"
        )
    return words


def _found(asked: Asked, word: str) -> bool:
    return asked.error is None and word in asked.output


def bench_load(
    settings: Settings,
    real: Sequence[Chunk],
    questions: Sequence[str],
    work: Path,
    log: Log,
    *,
    users: int = 8,
    documents: int = 200,
) -> dict[str, Any]:
    """The load test: errors, versions per answer, and the delay until both workers find the new documents."""
    from gradio_client import Client

    work.mkdir(parents=True, exist_ok=True)
    words = new_documents(real, documents, work / "new-docs")
    with ExitStack() as stack:
        url = stack.enter_context(chroma_server(work))
        extra = {
            "ADVISOR_CHROMA_URL": url,
            "ADVISOR_SHARED_DIR": str(work / "shared"),
            "ADVISOR_INDEX_CHECK_S": "2",
        }

        def env(home: str) -> dict[str, str]:
            return advisor_env(at_home(settings, work / home), **extra)

        ingest = [sys.executable, "-m", "advisor.cli", "ingest"]
        subprocess.run(ingest, env=env("ingest-home"), check=True, capture_output=True)
        workers = [stack.enter_context(web_worker(env(f"worker-{i}"), free_port())) for i in range(2)]
        urls = [w[0] for w in workers]
        log(
            f"load: chroma {url}, workers {urls} up; {users} users start, then an ingest of {documents} documents"
        )

        done = threading.Event()
        ingest_window: dict[str, float] = {}

        def ingest_elsewhere() -> None:
            time.sleep(3)  # users are asking before the ingest starts
            ingest_window["start"] = time.perf_counter()
            subprocess.run(
                [*ingest, str(work / "new-docs")], env=env("ingest-home"), check=True, capture_output=True
            )
            ingest_window["end"] = time.perf_counter()
            done.set()

        runner = threading.Thread(target=ingest_elsewhere)
        t0 = time.perf_counter()
        runner.start()
        results: list[Asked] = []
        users_thread = threading.Thread(
            target=lambda: results.extend(users_asking(urls, users, questions, lambda _: not done.is_set()))
        )
        users_thread.start()
        runner.join()
        freshness = {
            u: _seconds_until_found(Client(u, verbose=False), u, words, ingest_window["end"]) for u in urls
        }
        users_thread.join()
        wall = time.perf_counter() - t0
        rss = [rss_mb(w[1].pid) for w in workers]

    during = [r for r in results if ingest_window["start"] <= r.started <= ingest_window["end"]]
    versions = {
        u: [r.version for r in sorted(results, key=lambda r: r.started) if r.worker == u] for u in urls
    }
    result = {
        "workers": 2,
        "users": users,
        "documents_ingested": documents,
        "ingest_s": round(ingest_window["end"] - ingest_window["start"], 1),
        **summarise(results, wall),
        "questions_during_ingest": len(during),
        "errors_during_ingest": sum(1 for r in during if r.error),
        "answers_naming_their_version": sum(1 for r in results if r.version is not None),
        "versions_seen": {u: sorted({v for v in vs if v is not None}) for u, vs in versions.items()},
        "versions_never_go_back": all(_monotonic(vs) for vs in versions.values()),
        "new_documents_found_after_ingest_s": freshness,
        "freshness_limit_s": FRESHNESS_LIMIT_S,
        "worker_rss_mb": rss,
    }
    log(f"load: {result}")
    return result


def _monotonic(versions: list[int | None]) -> bool:
    seen = [v for v in versions if v is not None]
    return all(a <= b for a, b in pairwise(seen))


def _seconds_until_found(
    client: Any, url: str, words: Sequence[str], since: float, limit_s: float = 60
) -> float | None:
    """Seconds after `since` until this worker cites the first and the last new document (None: never)."""
    pending = [words[0], words[-1]]
    while pending and time.perf_counter() - since < limit_s:
        if _found(ask(client, url, f"{pending[0]} 园区"), pending[0]):
            pending.pop(0)
        else:
            time.sleep(0.5)
    return None if pending else round(time.perf_counter() - since, 2)

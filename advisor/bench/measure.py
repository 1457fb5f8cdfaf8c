"""Small measuring helpers: percentiles, resident memory, and the machine a result was measured on."""

from __future__ import annotations

import os
import platform
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

Log = Callable[[str], None]


def percentiles(samples_ms: Sequence[float]) -> dict[str, float]:
    """p50/p95/mean/max of millisecond samples, rounded for reading."""
    if not samples_ms:
        return {"n": 0}
    arr = np.asarray(samples_ms, dtype=float)
    return {
        "n": len(arr),
        "p50": round(float(np.percentile(arr, 50)), 1),
        "p95": round(float(np.percentile(arr, 95)), 1),
        "mean": round(float(arr.mean()), 1),
        "max": round(float(arr.max()), 1),
    }


def rss_mb(pid: int | None = None) -> float:
    """Resident set size of a process (this one by default), in MB, from /proc."""
    path = f"/proc/{pid or os.getpid()}/status"
    with open(path, encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as handle:
            cpu = next((ln.split(":", 1)[1].strip() for ln in handle if ln.startswith("model name")), "")
    except OSError:
        pass
    mem_gb = 0.0
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            mem_gb = round(int(handle.readline().split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        load = os.getloadavg()
    except OSError:
        load = (0.0, 0.0, 0.0)
    import torch

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "memory_gb": mem_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in load],
    }

"""Charts of a benchmark run (PNG, matplotlib's Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_charts(results: dict[str, Any], out: Path) -> list[Path]:
    """Latency against corpus size (with the bare encoding it is held to), and ingest throughput."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written: list[Path] = []
    scale = results.get("scale")
    if scale and all("probes" in row for row in scale.values() if isinstance(row, dict) and "chunks" in row):
        rows = sorted(
            (r for r in scale.values() if isinstance(r, dict) and "chunks" in r), key=lambda r: r["chunks"]
        )
        sizes = [r["chunks"] for r in rows]
        fig, ax = plt.subplots(figsize=(6.4, 4))
        for name, marker in (("probes", "o"), ("advice", "s")):
            ax.plot(sizes, [r[name]["ask_ms"]["p50"] for r in rows], marker=marker, label=f"ask p50 ({name})")
            ax.plot(
                sizes,
                [r[name]["ask_ms"]["p95"] for r in rows],
                marker="x",
                linestyle="--",
                label=f"ask p95 ({name})",
            )
            encoding = [sum(e["p50"] for e in r[name]["encoders_ms"].values()) for r in rows]
            ax.plot(sizes, encoding, linestyle=":", marker=marker, label=f"bare encoding p50 ({name})")
        ax.set_xscale("log")
        ax.set_xlabel("chunks in the index (log scale)")
        ax.set_ylabel("milliseconds")
        ax.set_title("Warm latency against corpus size (extractive backend)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        fig.tight_layout()
        path = out / "latency-vs-size.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    ingest = results.get("ingest")
    if ingest:
        fig, ax = plt.subplots(figsize=(5, 3.2))
        values = [ingest["bare_encoder_chunks_per_s"], ingest["pipeline_chunks_per_s"]]
        ax.bar(["bare encoders", "whole ingest"], values, color=["#8c8c8c", "#2f6fb0"])
        ax.set_ylabel("chunks per second")
        ax.set_title(f"Ingest throughput (ratio {ingest['ratio']:.2f})")
        fig.tight_layout()
        path = out / "ingest-throughput.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written

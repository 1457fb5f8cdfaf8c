"""The radar chart of dimension scores (PNG), drawn with matplotlib's object API and the bundled CJK font.

No pyplot: a Figure per chart keeps the web server's threads from sharing matplotlib state. Every text
artist uses the font loaded by path, so Chinese labels never fall back to a font without the glyphs.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any, cast

_ACCENT = "#0f766e"
_GRID = "#cbd5e1"


def font() -> Any:
    """matplotlib font properties for the bundled Noto Sans SC file."""
    from matplotlib.font_manager import FontProperties

    from ..export.fonts import cjk_font_path

    return FontProperties(fname=str(cjk_font_path()))


def radar_figure(labels: Sequence[str], scores: Sequence[float | None], unjudged: str) -> Any:
    """A polar Figure: one spoke per dimension (0–100); a dimension not judged sits at 0, marked `unjudged`."""
    from matplotlib.figure import Figure
    from matplotlib.projections.polar import PolarAxes

    prop = font()
    count = len(labels)
    angles = [2 * math.pi * i / count for i in range(count)]
    values = [s if s is not None else 0.0 for s in scores]
    figure = Figure(figsize=(6.4, 5.6), dpi=110)
    axes = cast(PolarAxes, figure.add_subplot(projection="polar"))
    axes.set_theta_offset(math.pi / 2)  # the first dimension at the top, the others clockwise
    axes.set_theta_direction(-1)
    axes.set_thetalim(0, 2 * math.pi)
    axes.set_ylim(0, 100)
    axes.set_rlabel_position(0)
    axes.set_yticks([25, 50, 75, 100])
    axes.set_yticklabels(["25", "50", "75", "100"], fontproperties=prop, fontsize=7, color="#64748b")
    axes.set_xticks(angles)
    names = [
        f"{label}\n({unjudged})" if s is None else f"{label}\n{s:.0f}"
        for label, s in zip(labels, scores, strict=True)
    ]
    axes.set_xticklabels(names, fontproperties=prop, fontsize=9)
    axes.tick_params(axis="x", pad=12)
    axes.grid(color=_GRID, linewidth=0.7)
    axes.spines["polar"].set_color(_GRID)
    ring = [*angles, angles[0]]
    axes.plot(ring, [*values, values[0]], color=_ACCENT, linewidth=2)
    axes.fill(ring, [*values, values[0]], color=_ACCENT, alpha=0.18)
    judged = [(a, v) for a, v, s in zip(angles, values, scores, strict=True) if s is not None]
    if judged:
        axes.scatter([a for a, _ in judged], [v for _, v in judged], color=_ACCENT, s=18, zorder=3)
    figure.tight_layout()
    return figure


def radar_png(labels: Sequence[str], scores: Sequence[float | None], unjudged: str) -> bytes:
    """The chart as PNG bytes; the same scores give the same bytes (no timestamp in the metadata)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = radar_figure(labels, scores, unjudged)
    out = io.BytesIO()
    FigureCanvasAgg(figure).print_png(out, metadata={"Software": None})
    return out.getvalue()

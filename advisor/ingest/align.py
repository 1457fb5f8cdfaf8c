"""Align the paragraphs of a Chinese section with their English translation (length-based, monotone)."""

from __future__ import annotations

import math
from collections.abc import Sequence

# Bead shapes (Chinese groups, English groups): translators split and merge paragraphs, rarely drop them.
_SHAPES: tuple[tuple[int, int], ...] = ((1, 1), (1, 2), (2, 1), (1, 3), (3, 1), (2, 2), (1, 4), (4, 1))
_SHAPE_PENALTY = {1: 0.0, 2: 0.35, 3: 0.7, 4: 1.0}


def align_lengths(zh: Sequence[int], en: Sequence[int]) -> list[tuple[range, range]]:
    """Best monotone alignment of two length sequences into beads, as (zh index range, en index range).

    Gale–Church style: the English length of a bead should be a stable multiple of its Chinese length; the
    multiple is estimated from the two sections themselves, so no language constant is baked in. Every
    paragraph lands in exactly one bead.
    """
    if not zh or not en:
        return []
    ratio = sum(en) / max(sum(zh), 1)
    inf = math.inf
    n, m = len(zh), len(en)
    cost = [[inf] * (m + 1) for _ in range(n + 1)]
    back: list[list[tuple[int, int] | None]] = [[None] * (m + 1) for _ in range(n + 1)]
    cost[0][0] = 0.0
    for i in range(n + 1):
        for j in range(m + 1):
            if cost[i][j] == inf:
                continue
            for a, b in _SHAPES:
                if i + a > n or j + b > m:
                    continue
                zl = sum(zh[i : i + a]) * ratio
                el = sum(en[j : j + b])
                step = abs(math.log((el + 1) / (zl + 1))) * 2.0 + _SHAPE_PENALTY[a + b - 1]
                if cost[i][j] + step < cost[i + a][j + b]:
                    cost[i + a][j + b] = cost[i][j] + step
                    back[i + a][j + b] = (a, b)
    if cost[n][m] == inf:
        return [(range(0, n), range(0, m))]
    beads: list[tuple[range, range]] = []
    i, j = n, m
    while i > 0 or j > 0:
        step_shape = back[i][j]
        assert step_shape is not None
        a, b = step_shape
        beads.append((range(i - a, i), range(j - b, j)))
        i, j = i - a, j - b
    beads.reverse()
    return beads

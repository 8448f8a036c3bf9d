"""The cells the parts' tables share: how often a change was detected, with the delay's median and p90."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def detected(ds: Sequence[float | None]) -> str:
    """`detected/runs | median / p90` of the runs' delays (None: not detected in that run)."""
    hit = [d for d in ds if d is not None]
    med = f"{statistics.median(hit):.0f}" if hit else "-"
    return f"{len(hit)}/{len(ds)} | {med} / {_q(hit, 0.9)}"


def _q(values: list[int] | list[float], q: float) -> str:
    if not values:
        return "-"
    s = sorted(values)
    return f"{s[min(len(s) - 1, math.ceil(q * len(s)) - 1)]}"

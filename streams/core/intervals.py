"""Uncertainty for every figure: 95% intervals for proportions and Poisson rates, closed form."""

from __future__ import annotations

import math

Z95 = 1.959963984540054


def wilson(successes: float, trials: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion; (0, 1) when there are no trials."""
    if trials <= 0:
        return 0.0, 1.0
    p = min(max(successes / trials, 0.0), 1.0)
    z2 = z * z
    denom = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def poisson_count(count: float, z: float = Z95) -> tuple[float, float]:
    """Byar's approximation to the exact (Garwood) interval of a Poisson count."""
    if count <= 0:
        return 0.0, -math.log(0.025)  # exact upper limit for zero events: 3.689
    o = count
    low = o * (1 - 1 / (9 * o) - z / (3 * math.sqrt(o))) ** 3
    o1 = o + 1
    high = o1 * (1 - 1 / (9 * o1) + z / (3 * math.sqrt(o1))) ** 3
    return max(0.0, low), high


def poisson_rate(count: float, exposure: float, scale: float = 1.0) -> tuple[float, float, float]:
    """Rate = count / exposure x scale, with its interval; NaN-free (0 exposure gives zeros)."""
    if exposure <= 0:
        return 0.0, 0.0, 0.0
    low, high = poisson_count(count)
    return count / exposure * scale, low / exposure * scale, high / exposure * scale

"""Survey answers on an ordinal scale: distributions, medians, shares at or above a level, and comparisons
by ranks (probability of superiority, Mann-Whitney), never means of scale steps: the distance between
"rather safe" and "very safe" is not a number."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from streams.core.programme.estimate import Figure


@dataclass(frozen=True, slots=True)
class OrdinalScale:
    """The declared levels, lowest first."""

    name: str
    levels: tuple[str, ...]

    def rank(self, level: str) -> int:
        return self.levels.index(level)


@dataclass(frozen=True, slots=True)
class SurveyAnswer:
    """One answer (a `survey_response` event, or a line of a `--survey` file). `person` is a pseudonym or
    None (anonymous); never shown."""

    instrument: str
    question: str
    level: str
    group: str = ""
    period: str = ""
    person: str | None = None


@dataclass(frozen=True, slots=True)
class Distribution:
    n: int
    counts: tuple[int, ...]
    shares: tuple[float, ...]
    median: str  # the lowest level at which half the answers are reached
    #: per level, the share of answers at that level or above (the first is 1): "safe or better: 72%"
    at_or_above: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class Comparison:
    """X against Y: P(X > Y) + 0.5 P(X = Y) (0.5: no difference), its interval, and a rank-sum test."""

    n_x: int
    n_y: int
    superiority: Figure
    mann_whitney_u: float
    z: float
    p_value: float


def counts(scale: OrdinalScale, levels: Sequence[str]) -> tuple[int, ...]:
    c = Counter(scale.rank(v) for v in levels)
    return tuple(c.get(k, 0) for k in range(len(scale.levels)))


def distribution(scale: OrdinalScale, levels: Sequence[str], min_group_size: int = 11) -> Distribution | None:
    """Counts and shares per level, and the median level; None for 10 or fewer answers (suppressed)."""
    c = counts(scale, levels)
    n = sum(c)
    if n < min_group_size:
        return None
    cum = 0
    median = scale.levels[-1]
    for k, ck in enumerate(c):
        cum += ck
        if 2 * cum >= n:
            median = scale.levels[k]
            break
    above = tuple(sum(c[k:]) / n for k in range(len(c)))
    return Distribution(n, c, tuple(ck / n for ck in c), median, above)


def share_at_or_above(scale: OrdinalScale, levels: Sequence[str], level: str) -> float:
    threshold = scale.rank(level)
    return sum(1 for v in levels if scale.rank(v) >= threshold) / len(levels) if levels else 0.0


def _superiority(cx: Sequence[int], cy: Sequence[int]) -> float:
    """P(X > Y) + 0.5 P(X = Y) from counts per level, in O(levels)."""
    nx, ny = sum(cx), sum(cy)
    if not nx or not ny:
        return 0.5
    below = 0  # Y answers below the current level
    wins = 0.0
    for k in range(len(cx)):
        wins += cx[k] * (below + 0.5 * cy[k])
        below += cy[k]
    return wins / (nx * ny)


def compare(scale: OrdinalScale, x: Sequence[str], y: Sequence[str], bootstrap: int = 2000, seed: int = 15,
            min_group_size: int = 11) -> Comparison | None:
    """X against Y; None when either has 10 or fewer answers. The interval is a percentile bootstrap
    (seeded); the test is Mann-Whitney's U with the normal approximation, corrected for ties."""
    cx, cy = counts(scale, x), counts(scale, y)
    nx, ny = sum(cx), sum(cy)
    if nx < min_group_size or ny < min_group_size:
        return None
    ps = _superiority(cx, cy)
    u = ps * nx * ny
    n = nx + ny
    ties = sum(t ** 3 - t for t in (a + b for a, b in zip(cx, cy, strict=True)))
    var = nx * ny / 12.0 * ((n + 1) - ties / (n * (n - 1)))
    z = (u - nx * ny / 2.0) / math.sqrt(var) if var > 0 else 0.0
    p_value = math.erfc(abs(z) / math.sqrt(2))
    rng = random.Random(seed)
    ks = range(len(scale.levels))
    samples = []
    for _ in range(bootstrap):
        bx = Counter(rng.choices(ks, weights=cx, k=nx))
        by = Counter(rng.choices(ks, weights=cy, k=ny))
        samples.append(_superiority([bx.get(k, 0) for k in ks], [by.get(k, 0) for k in ks]))
    samples.sort()
    lo, hi = samples[int(0.025 * (len(samples) - 1))], samples[int(math.ceil(0.975 * (len(samples) - 1)))]
    return Comparison(nx, ny, Figure(ps, lo, hi), u, z, p_value)

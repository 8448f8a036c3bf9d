"""References for enrolled persons: persons of the same unit, not yet enrolled, with the nearest
before-profile (each outcome's level over the before-window and over its last half) in the same calendar
window; and the within-unit regression that corrects what is left of the difference in profiles."""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

from streams.core.programme.cohort import MATCH_ON, Cohort, Member
from streams.core.programme.months import Month

Profile = tuple[float, ...]


@dataclass(frozen=True, slots=True)
class MatchConfig:
    neighbours: int = 10
    max_ties: int = 30  # references tied at the k-th distance are all kept, up to this many
    ridge: float = 1e-3  # of the regression for the bias correction, per candidate (standardised units)


@dataclass(frozen=True, slots=True)
class Match:
    member: Member
    profile: Profile
    refs: tuple[tuple[str, Profile], ...]


@dataclass(slots=True)
class Window:
    """The reference candidates of one enrolment month, by unit, and the scale of each profile entry."""

    month: Month
    by_unit: dict[str, list[tuple[str, Profile]]]
    scale: Profile


def profile(cohort: Cohort, key: str, month: Month) -> Profile:
    """Per outcome matched on (`MATCH_ON`): (mean per month before `month`, mean over the last half)."""
    s, w = cohort.series[key], cohort.spec.window_months
    out: list[float] = []
    for measure in MATCH_ON[cohort.spec.kind]:
        i = cohort.measures.index(measure)
        out += [s.mean(month - w, month - 1, i), s.mean(month - max(1, w // 2), month - 1, i)]
    return tuple(out)


def window(cohort: Cohort, month: Month) -> Window:
    by_unit: dict[str, list[tuple[str, Profile]]] = {}
    for k in cohort.references_all(month):
        unit = cohort.series[k].unit_at(month)
        assert unit is not None
        by_unit.setdefault(unit, []).append((k, profile(cohort, k, month)))
    rows = [p for cands in by_unit.values() for _, p in cands]
    scale = []
    for j in range(len(rows[0]) if rows else 0):
        mean = sum(r[j] for r in rows) / len(rows)
        sd = math.sqrt(sum((r[j] - mean) ** 2 for r in rows) / len(rows))
        scale.append(sd if sd > 0 else 1.0)
    return Window(month, by_unit, tuple(scale))


def _distance(a: Profile, b: Profile, scale: Profile) -> float:
    return sum(abs(x - y) / s for x, y, s in zip(a, b, scale, strict=True))


def match_cohort(cohort: Cohort, cfg: MatchConfig | None = None) -> tuple[list[Match], dict[Month, Window]]:
    """Each member with an observed after-month and at least one candidate, with their references."""
    cfg = cfg or MatchConfig()
    windows: dict[Month, Window] = {}
    matches: list[Match] = []
    for member in cohort.members:
        if member.observed_after < 1:
            continue
        if member.enrol_month not in windows:
            windows[member.enrol_month] = window(cohort, member.enrol_month)
        w = windows[member.enrol_month]
        if not w.scale:
            continue
        mine = profile(cohort, member.person, member.enrol_month)
        ranked = sorted((_distance(mine, p, w.scale), zlib.crc32(k.encode()), k, p)
                        for k, p in w.by_unit.get(member.unit_id, []) if k != member.person)
        if not ranked:
            continue
        kth = ranked[min(cfg.neighbours, len(ranked)) - 1][0]
        chosen = [x for x in ranked if x[0] <= kth][: max(cfg.max_ties, cfg.neighbours)]
        matches.append(Match(member, mine, tuple((k, p) for _, _, k, p in chosen)))
    return matches, windows


def covariates(cohort: Cohort, key: str, month: Month, i: int, base: Profile) -> Profile:
    """The regression's covariates for measure i: the matching profile, plus the measure's own levels when
    it is not one of the matched outcomes (the cost of sick leave: short days cost more than long ones)."""
    measure = cohort.measures[i]
    if measure in MATCH_ON[cohort.spec.kind]:
        return base
    s, w = cohort.series[key], cohort.spec.window_months
    return (*base, s.mean(month - w, month - 1, i), s.mean(month - max(1, w // 2), month - 1, i))


def slopes(cohort: Cohort, w: Window, i: int, ridge: float) -> Profile:
    """Least squares (ridge, on standardised covariates) of the change in measure i (mean after - mean
    before) on its covariates, within units, over the window's candidates; slopes per unit of covariate."""
    observed = min(cohort.spec.after_window, cohort.as_of - w.month)
    rows_by_unit: list[list[tuple[Profile, float]]] = []
    for cands in w.by_unit.values():
        rows = []
        for k, p in cands:
            s = cohort.series[k]
            before = s.mean(w.month - cohort.spec.window_months, w.month - 1, i)
            change = s.mean(w.month + 1, w.month + observed, i) - before if observed >= 1 else 0.0
            rows.append((covariates(cohort, k, w.month, i, p), change))
        if len(rows) >= 2:
            rows_by_unit.append(rows)
    if observed < 1 or not rows_by_unit:
        return ()
    dim = len(rows_by_unit[0][0][0])
    xs: list[list[float]] = []
    ys: list[float] = []
    for rows in rows_by_unit:  # within units: each unit's means removed
        means = [sum(r[0][j] for r in rows) / len(rows) for j in range(dim)]
        my = sum(r[1] for r in rows) / len(rows)
        for x, y in rows:
            xs.append([a - m for a, m in zip(x, means, strict=True)])
            ys.append(y - my)
    scale = [math.sqrt(sum(x[j] ** 2 for x in xs) / len(xs)) or 1.0 for j in range(dim)]
    xs = [[v / sc for v, sc in zip(x, scale, strict=True)] for x in xs]
    a = [[sum(x[r] * x[c] for x in xs) + (ridge * len(xs) if r == c else 0.0) for c in range(dim)]
         for r in range(dim)]
    b = [sum(x[r] * y for x, y in zip(xs, ys, strict=True)) for r in range(dim)]
    beta = _solve(a, b)
    return tuple(bj / sc for bj, sc in zip(beta, scale, strict=True))


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting; a singular direction gets a zero slope."""
    n = len(b)
    m = [row[:] + [b[r]] for r, row in enumerate(a)]
    for c in range(n):
        piv = max(range(c, n), key=lambda r: abs(m[r][c]))
        if abs(m[piv][c]) < 1e-12:
            continue
        m[c], m[piv] = m[piv], m[c]
        for r in range(n):
            if r != c and m[r][c]:
                f = m[r][c] / m[c][c]
                m[r] = [x - f * y for x, y in zip(m[r], m[c], strict=True)]
    return [m[r][n] / m[r][r] if abs(m[r][r]) >= 1e-12 else 0.0 for r in range(n)]

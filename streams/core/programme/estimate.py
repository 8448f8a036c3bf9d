"""The effect of a programme: matched difference-in-differences against not-yet-enrolled references.

Each enrolled person gets as reference the 10 persons of the same unit, not enrolled by the end of the
person's enrolment month, whose before-profile is nearest (per outcome of the programme's kind, the level
over the six calendar months before that month and over the last three of them; ties at the 10th distance
kept, up to 30). Each after-month's change from the person's before-level is compared with the
references' change over the same calendar months, so a common trend (admissions falling for everyone, a
flu season) is not credited; and since the references were as high before, the regression to the mean
that follows enrolment at a peak happens to them too and is not credited either. What is left of the
difference in profiles is corrected with a within-unit regression of the change on the profile, fitted
on all candidates of that month (the bias correction of matching estimators, Abadie & Imbens 2011). The
enrolment month is left out (it holds the events that led to enrolment). The estimate is the mean effect
over the enrolled person-months, with a relative effect against what the enrolled would have had
(after - effect). It assumes: (1) given unit, calendar window and before-profile, whether a person is
enrolled now is unrelated to how they would have fared (no selection on what the events do not show, such
as a frailty a nurse sees); (2) some persons as high as the enrolled are not enrolled (the references
exist); (3) no spill-over from the programme to the references. References enrolled later are kept (an
intention-to-treat comparison of "enrol now" with "usual care, which sometimes means enrolment later"),
which can only pull an effect towards zero. A member who left because they moved or died (`reason` of the
`left` event) is followed only up to the month before the month they left: their later months are unknown,
not months without care (otherwise a death would be credited to the programme as avoided care); members
who completed, declined or left without a reason are followed as if still in (intention to treat). So it
also assumes (4) that members' moves and deaths are reported with their reason. Those of references are not
known to the monitor, so their later months count as without care: that lowers the references' change and
can make the programme look worse, never better. The 95% interval is a percentile bootstrap over persons,
enrolled and references alike, with matches and regression held fixed (seeded: the same data give the
same interval; holding them fixed makes it somewhat narrow, ~85-90% coverage in the simulated scenarios).
Figures behind 10 or fewer persons are suppressed.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field

from streams.core.programme.cohort import Cohort
from streams.core.programme.matching import Match, MatchConfig, Window, covariates, match_cohort, slopes
from streams.core.programme.months import Month

ALL = "all"


@dataclass(frozen=True, slots=True)
class EstimatorConfig:
    neighbours: int = 10
    max_ties: int = 30
    bootstrap: int = 1000
    seed: int = 15
    ridge: float = 1e-3
    min_group_size: int = 11  # MonitorConfig.min_group_size: no figure about 10 or fewer persons


@dataclass(frozen=True, slots=True)
class Figure:
    """A point estimate with its 95% interval."""

    value: float
    low: float
    high: float

    def contains(self, x: float) -> bool:
        return self.low <= x <= self.high

    def excludes_zero(self) -> bool:
        return not self.contains(0.0)


@dataclass(frozen=True, slots=True)
class Effect:
    """One measure over one group of after-months (all, a quarter, a contract year), per person-month.
    When `suppressed`, every figure is None."""

    measure: str
    group: str
    suppressed: bool
    persons: int | None = None
    reference_persons: int | None = None
    person_months: int | None = None
    before: float | None = None  # the enrolled, before enrolment
    after: float | None = None  # the enrolled, after
    reference_before: float | None = None  # their references, before (balance: close to `before`)
    counterfactual: Figure | None = None  # the enrolled after, had they not been enrolled
    effect: Figure | None = None  # after - counterfactual (negative: less of the outcome)
    relative: Figure | None = None  # effect / counterfactual
    total: Figure | None = None  # effect summed over the person-months
    naive: Figure | None = None  # after - before, without a reference: what must not be credited


@dataclass(slots=True)
class _Row:
    """One matched enrolled person: per group, (sum of change, sum of outcome, months, refs' changes)."""

    before: float
    refs: list[int]
    ref_before: float
    groups: dict[int, tuple[float, float, int, list[float]]] = field(default_factory=dict)


def estimate(cohort: Cohort, measure: str, groups: Mapping[str, frozenset[Month]] | None = None,
             cfg: EstimatorConfig | None = None,
             matched: tuple[list[Match], dict[Month, Window]] | None = None) -> dict[str, Effect]:
    """The effect on `measure` over all after-months and over each named group of calendar months.
    `matched`: the cohort's matches, when several measures share them (`match_cohort`)."""
    cfg = cfg or EstimatorConfig()
    matches, windows = matched or match_cohort(cohort, MatchConfig(cfg.neighbours, cfg.max_ties, cfg.ridge))
    i = cohort.measures.index(measure)
    names = [ALL, *(groups or {})]
    sets: list[frozenset[Month] | None] = [None, *(groups or {}).values()]
    ref_ids: dict[str, int] = {}
    rows: list[_Row] = []
    slope_cache: dict[Month, tuple[float, ...]] = {}
    w = cohort.spec.window_months
    for match in matches:
        member = match.member
        if member.enrol_month not in slope_cache:
            slope_cache[member.enrol_month] = slopes(cohort, windows[member.enrol_month], i, cfg.ridge)
        beta = slope_cache[member.enrol_month]
        s = cohort.series[member.person]
        b = s.mean(member.enrol_month - w, member.enrol_month - 1, i)
        mine = covariates(cohort, member.person, member.enrol_month, i, match.profile)
        # what is left of the difference in covariates, valued by the regression (Abadie & Imbens 2011)
        refs = [(k, cohort.series[k].mean(member.enrol_month - w, member.enrol_month - 1, i),
                 sum(bk * (x - y) for bk, x, y in
                     zip(beta, mine, covariates(cohort, k, member.enrol_month, i, p), strict=False)))
                for k, p in match.refs]
        row = _Row(b, [ref_ids.setdefault(k, len(ref_ids)) for k, _, _ in refs],
                   sum(bj for _, bj, _ in refs) / len(refs))
        for g, months in enumerate(sets):
            after = [m for m in cohort.after_months(member) if months is None or m in months]
            if not after:
                continue
            ys = [s.value(m, i) for m in after]
            d = [sum(cohort.series[k].value(m, i) - bj for m in after) + len(after) * corr for k, bj, corr in refs]
            row.groups[g] = (sum(ys) - b * len(after), sum(ys), len(after), d)
        rows.append(row)
    point = _totals(rows, len(names), None, None)
    rng = random.Random(cfg.seed)
    reps: list[list[tuple[float, float, float, float]]] = []
    for _ in range(cfg.bootstrap):
        mw = [0] * len(rows)
        for j in rng.choices(range(len(rows)), k=len(rows)) if rows else ():
            mw[j] += 1
        rw = [0] * len(ref_ids)
        for j in rng.choices(range(len(ref_ids)), k=len(ref_ids)) if ref_ids else ():
            rw[j] += 1
        reps.append(_totals(rows, len(names), mw, rw))
    out: dict[str, Effect] = {}
    for g, name in enumerate(names):
        members_g = [r for r in rows if g in r.groups]
        refs_g = {j for r in members_g for j in r.refs}
        if len(members_g) < cfg.min_group_size or len(refs_g) < cfg.min_group_size:
            out[name] = Effect(measure, name, True)
            continue
        total, s_sum, n, naive = point[g]
        before = sum(r.before * r.groups[g][2] for r in members_g) / n
        ref_before = sum(r.ref_before * r.groups[g][2] for r in members_g) / n
        samples = [rep[g] for rep in reps if rep[g][2] > 0]
        out[name] = Effect(
            measure, name, False, len(members_g), len(refs_g), int(n), before, s_sum / n, ref_before,
            counterfactual=_figure((s_sum - total) / n, [(s - t) / m for t, s, m, _ in samples]),
            effect=_figure(total / n, [t / m for t, _, m, _ in samples]),
            relative=_figure(_ratio(total, s_sum - total), [_ratio(t, s - t) for t, s, _, _ in samples]),
            total=_figure(total, [t for t, _, _, _ in samples]),
            naive=_figure(naive / n, [v / m for _, _, m, v in samples]),
        )
    return out


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def _totals(rows: list[_Row], n_groups: int, mw: list[int] | None,
            rw: list[int] | None) -> list[tuple[float, float, float, float]]:
    """Per group: (sum of effects, sum of outcomes, person-months, sum of naive changes), weighted."""
    acc = [[0.0, 0.0, 0.0, 0.0] for _ in range(n_groups)]
    for r_i, row in enumerate(rows):
        c = 1 if mw is None else mw[r_i]
        if not c:
            continue
        w = [1] * len(row.refs) if rw is None else [rw[j] for j in row.refs]
        wsum = sum(w)
        if not wsum:  # none of this person's references drawn: their plain mean stands in
            w, wsum = [1] * len(row.refs), len(row.refs)
        for g, (change, ys, n, d) in row.groups.items():
            ref_change = sum(wk * dk for wk, dk in zip(w, d, strict=True)) / wsum
            a = acc[g]
            a[0] += c * (change - ref_change)
            a[1] += c * ys
            a[2] += c * n
            a[3] += c * change
    return [(a[0], a[1], a[2], a[3]) for a in acc]


def _figure(value: float, samples: list[float]) -> Figure:
    if not samples:
        return Figure(value, value, value)
    s = sorted(samples)
    return Figure(value, _quantile(s, 0.025), _quantile(s, 0.975))


def _quantile(s: list[float], q: float) -> float:
    pos = q * (len(s) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def paired_levels(cohort: Cohort, measure: str, min_group_size: int = 11) -> list[tuple[float, float]] | None:
    """Per enrolled person with an observed after-month: (mean per month before, mean per month after),
    sorted (so no order of enrolment shows through); None when 10 or fewer (suppressed)."""
    i = cohort.measures.index(measure)
    pairs = []
    for member in cohort.members:
        if member.observed_after < 1:
            continue
        s = cohort.series[member.person]
        before = s.mean(member.enrol_month - cohort.spec.window_months, member.enrol_month - 1, i)
        after = cohort.after_months(member)
        pairs.append((before, s.mean(after[0], after[-1], i)))
    return sorted(pairs) if len(pairs) >= min_group_size else None

"""The effect of a programme on a cohort, as the report and the metrics show it: each enrolment an emulated
target trial against persons of the same unit eligible on the same day (`trial.py`, where the method and
its assumptions are written out), over the cohort's day-level outcomes.

It assumes: (1) given unit, day, eligibility and the outcomes of the days before, whether a person is
enrolled that day is unrelated to how they would have fared (no selection on what the events do not show,
such as a frailty a nurse sees: the placebo shows a selection on the outcomes, not on what they miss);
(2) some eligible persons are not enrolled that day (the references exist: the share of members with one
is shown); (3) no spill-over from the programme to the references; (4) members' moves and deaths are
reported with their reason (`left` with `moved` or `died`): their follow-up ends the day before, since their
later days are unknown, not days without care. Those of references are not known to the monitor, so their
later days count as without care: that lowers the references' rate and can make a programme look worse,
never better. Without a declared eligibility rule the references are anyone of the unit not enrolled: the
comparison then rests on the matching alone, and the report says so.

Figures behind 10 or fewer persons are suppressed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from streams.core.programme.cohort import DAY_EXTRA, MATCH_ON, Cohort
from streams.core.programme.days import day_table, month_days
from streams.core.programme.months import Month, first_day, last_day
from streams.core.programme.trial import (
    DAYS_PER_MONTH,
    Design,
    Enrolment,
    Figure,
    TrialConfig,
    Trials,
    build,
)
from streams.core.programme.trial_effect import TrialEffect, fit

__all__ = ["ALL", "Effect", "EstimatorConfig", "Figure", "estimate", "paired_levels", "trials_of"]

ALL = "all"


@dataclass(frozen=True, slots=True)
class EstimatorConfig:
    neighbours: int = 10
    bootstrap: int = 400
    seed: int = 15
    min_group_size: int = 11  # MonitorConfig.min_group_size: no figure about 10 or fewer persons

    def trial(self) -> TrialConfig:
        return TrialConfig(neighbours=self.neighbours, bootstrap=self.bootstrap, seed=self.seed)


@dataclass(frozen=True, slots=True)
class Effect:
    """One measure over one group of follow-up days (all, those in a quarter, ...), per person-month (30.4375
    days of a member's follow-up). When `suppressed`, every figure is None."""

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
    total: Figure | None = None  # effect summed over the follow-up
    naive: Figure | None = None  # after - before, without a reference: what must not be credited


def trials_of(cohort: Cohort, cfg: EstimatorConfig | None = None, references: str = "eligible") -> Trials:
    """The cohort's trials: one per member with a follow-up day and a reference (shared by all measures)."""
    cfg = cfg or EstimatorConfig()
    spec = cohort.spec
    keys = sorted(cohort.series)
    day0 = min((first_day(cohort.series[k].first_month or cohort.as_of) for k in keys), default=first_day(cohort.as_of))
    end = last_day(cohort.as_of)
    rule_measures = tuple(c.measure for c in spec.eligibility)
    match_on = (*MATCH_ON[spec.kind], *(m for m in DAY_EXTRA if m not in spec.measures and spec.kind.value == "care"))
    measures = tuple(dict.fromkeys((*spec.measures, *match_on, *rule_measures)))
    units = {k: dict(zip(cohort.series[k].unit_months, cohort.series[k].units, strict=True)) for k in keys}
    table = day_table(keys, measures, day0, end - day0 + 1, cohort.daily.outcomes,
                      {k: first_day(cohort.series[k].first_month or cohort.as_of) for k in keys},
                      {k: min(end, cohort.daily.end.get(k, end)) for k in keys}, cohort.daily.enrol, units)
    index = {k: i for i, k in enumerate(table.keys)}
    before = round(spec.window_months * DAYS_PER_MONTH)
    follow = round(spec.after_window * DAYS_PER_MONTH)
    enrolments = [Enrolment.of(table, index[m.person], follow, m.organisation) for m in cohort.members]
    return build(table, Design(match_on, before, follow, spec.eligibility, references), enrolments, cfg.trial())


def estimate(cohort: Cohort, measure: str, groups: Mapping[str, frozenset[Month]] | None = None,
             cfg: EstimatorConfig | None = None, trials: Trials | None = None,
             organisation: str | None = None) -> dict[str, Effect]:
    """The effect on `measure` over all follow-up days and over each named group of calendar months; with
    `organisation`, among the members that organisation enrolled."""
    cfg = cfg or EstimatorConfig()
    trials = trials if trials is not None else trials_of(cohort, cfg)
    spans = {ALL: None, **{name: month_days(months) for name, months in (groups or {}).items()}}
    only = None if organisation is None else [i for i, e in enumerate(trials.members) if e.organisation == organisation]
    fitted = fit(trials, measure, spans, only)
    return {name: _effect(measure, name, fitted[name], cfg.min_group_size) for name in spans}


def _effect(measure: str, group: str, e: TrialEffect | None, min_group: int) -> Effect:
    if e is None or e.persons < min_group or e.reference_persons < min_group:
        return Effect(measure, group, True)
    return Effect(measure, group, False, e.persons, e.reference_persons, round(e.person_months), e.before, e.after,
                  e.reference_before, e.counterfactual, e.effect, e.relative, e.total, e.naive)


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


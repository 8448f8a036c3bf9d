"""A unit flag with the evidence a manager needs: the unit's rate and its peers', the interval, and the
weeks that made the difference."""

from __future__ import annotations

from dataclasses import dataclass

from streams.core.config import MonitorConfig
from streams.core.flag_ids import flag_id
from streams.core.org.outcomes import OutcomeSpec
from streams.core.org.state import Week
from streams.core.timebase import day_start, day_to_date, week_days
from streams.models.flags import DriftEvidence, Flag, Interval, WeekFigure
from streams.models.vocab import Rule


@dataclass(frozen=True, slots=True)
class UnitWeek:
    """One unit's week for one outcome, as the steps see it."""

    spec: OutcomeSpec
    unit_id: str
    week: int
    observed: float
    e0: float  # expected at the rest's rate
    exposure: float
    group: int  # employees, or persons in care
    sick_rates: tuple[float, float] | None = None  # sick leave: sick-day rates of the unit and the rest

    def as_week(self) -> Week:
        return (self.week, self.observed, self.e0, self.exposure)


@dataclass(frozen=True, slots=True)
class Finding:
    """What a step concluded: the rule, the weeks it rests on and how they compare."""

    rule: Rule
    test: str  # "drift" | "level"
    weeks: list[Week]
    baseline: float  # the ratio the weeks are compared with (the unit's usual, or 1.0: the peers')
    interval: tuple[float, float]  # of the ratio over the weeks
    statistic: float
    threshold: float
    detector: str


def unit_flag(config: MonitorConfig, uw: UnitWeek, found: Finding) -> Flag:
    """The flag, its id fixed by the rule, the unit and the week it is raised for."""
    weeks = found.weeks
    observed = sum(w[1] for w in weeks)
    e0 = sum(w[2] for w in weeks)
    exposure = sum(w[3] for w in weeks)
    spec = uw.spec
    last = week_days(uw.week)[-1]
    rates = ((round(observed / exposure * spec.rate_scale, 4), round(e0 / exposure * spec.rate_scale, 4))
             if exposure > 0 else (None, None))
    evidence = DriftEvidence(
        test=found.test,  # type: ignore[arg-type]
        outcome=spec.outcome,
        detector=found.detector,
        signal=spec.numerator,  # type: ignore[arg-type]
        window_start=day_to_date(week_days(weeks[0][0])[0]),
        window_end=day_to_date(last),
        baseline_ratio=round(found.baseline, 4),
        current_ratio=round(observed / e0, 4),
        current_interval=Interval(low=round(found.interval[0], 4), high=round(found.interval[1], 4)),
        observed=round(observed, 3),
        expected=round(found.baseline * e0, 3),
        unit_rate=rates[0],
        peer_rate=rates[1],
        rate_unit=spec.rate_unit,
        unit_sick_leave_rate=uw.sick_rates[0] if uw.sick_rates else None,
        rest_sick_leave_rate=uw.sick_rates[1] if uw.sick_rates else None,
        headcount=uw.group,
        statistic=round(found.statistic, 4),
        threshold=found.threshold,
        weeks=[WeekFigure(week_start=day_to_date(week_days(w)[0]), observed=round(o, 3),
                          expected=round(found.baseline * e, 3), ratio=round(o / e, 4) if e > 0 else 0.0)
               for w, o, e, _ in weeks],
    )
    return Flag(
        flag_id=flag_id(found.rule.value, uw.unit_id, f"week:{uw.week}"),
        rule=found.rule,
        subject_kind="unit",
        subject_id=uw.unit_id,
        unit_id=uw.unit_id,
        # When it became known: after the window's last day, and its follow-up (readmissions: 30 days).
        raised_at=day_start(last + 1 + spec.follow_up_days, config.timezone),
        evidence=evidence,
    )

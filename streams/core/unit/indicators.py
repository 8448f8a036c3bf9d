"""Rolling unit indicators read off a `UnitState`, each with its interval and its denominator.

A figure whose group has fewer than `min_group_size` people is suppressed (value None): in Swedish
practice no sick-leave figure is published for a group of 10 or fewer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from streams.core.config import MonitorConfig
from streams.core.intervals import poisson_rate, wilson
from streams.core.timebase import day_to_date
from streams.core.unit.tracker import UnitState
from streams.models.vocab import UnitMetric


@dataclass(frozen=True, slots=True)
class Figure:
    value: float | None
    low: float | None
    high: float | None
    numerator: float
    denominator: float
    group_size: int
    suppressed: bool

    def as_dict(self) -> dict[str, object]:
        if self.suppressed:  # nothing that counts the few people behind it: not even how few they are
            return {"value": None, "low": None, "high": None, "suppressed": True}
        return asdict(self)


def _figure(value: float, low: float, high: float, num: float, den: float, group: int,
            config: MonitorConfig) -> Figure:
    if group < config.min_group_size:
        return Figure(None, None, None, 0.0, 0.0, 0, True)
    return Figure(round(value, 6), round(low, 6), round(high, 6), round(num, 6), round(den, 6), group, False)


def _proportion(num: float, den: float, group: int, config: MonitorConfig) -> Figure:
    """A share of `den`; none at all (value and interval None, not suppressed) when nothing was counted
    in the denominator: 0 of 0 is no evidence, and 0 with an interval of [0, 1] would read as a figure."""
    if den <= 0 and group >= config.min_group_size:
        return Figure(None, None, None, round(num, 6), round(den, 6), group, False)
    low, high = wilson(num, den)
    return _figure(num / den if den > 0 else 0.0, low, high, num, den, group, config)


@dataclass(frozen=True, slots=True)
class UnitIndicators:
    unit_id: str
    as_of: dt.date
    headcount: int | None  # None below the minimum group size: a group's size is a figure about it too
    population: int | None
    sick_leave_rate_7d: Figure
    sick_leave_rate_28d: Figure
    occasions_per_employee_12m: Figure
    sick_leave_cost_sek_month_to_date: Figure
    sick_leave_cost_sek_12m: Figure
    ed_visits_per_1000_30d: Figure
    readmission_rate_30d: Figure
    unplanned_home_care_share_28d: Figure

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            out[name] = value.as_dict() if isinstance(value, Figure) else value
        out["as_of"] = self.as_of.isoformat()
        return out


def sick_leave_rate(state: UnitState, days: int, config: MonitorConfig) -> Figure:
    """Sick days (weighted by extent) / (headcount x days), over the last `days` days."""
    first, last = state.clock_day - days + 1, state.clock_day
    exposure = float(sum(state.headcounts(first, last)))
    sick = state.total(UnitMetric.SICK_DAYS, first, last)
    return _proportion(min(sick, exposure), exposure, state.headcount_on(last), config)


def unit_indicators(state: UnitState, config: MonitorConfig) -> UnitIndicators:
    today = state.clock_day
    headcount = state.headcount_on(today)
    population = state.population_size()

    year_first = today - 364
    mean_hc = sum(state.headcounts(year_first, today)) / 365
    occasions = state.total(UnitMetric.OCCASIONS, year_first, today)
    rate, low, high = poisson_rate(occasions, mean_hc)
    occasions_fig = _figure(rate, low, high, occasions, mean_hc, headcount, config)

    as_of = day_to_date(today)
    month_first = today - as_of.day + 1
    cost_mtd = state.total(UnitMetric.SICK_COST_SEK, month_first, today)
    cost_12m = state.total(UnitMetric.SICK_COST_SEK, year_first, today)

    ed = state.total(UnitMetric.ED_VISITS, today - 29, today)
    ed_rate, ed_low, ed_high = poisson_rate(ed, float(population), scale=1000.0)

    # Discharges whose 30-day follow-up is complete: the 90 days ending 30 days ago.
    follow = config.rules.readmission_window_days
    d_first, d_last = today - follow - 89, today - follow
    discharges = state.total(UnitMetric.DISCHARGES, d_first, d_last)
    readmitted = state.total(UnitMetric.READMISSIONS, d_first, d_last)

    contacts = state.total(UnitMetric.HOME_CARE_CONTACTS, today - 27, today)
    unplanned = state.total(UnitMetric.HOME_CARE_UNPLANNED, today - 27, today)

    return UnitIndicators(
        unit_id=state.unit_id,
        as_of=as_of,
        headcount=headcount if headcount >= config.min_group_size else None,
        population=population if population >= config.min_group_size else None,
        sick_leave_rate_7d=sick_leave_rate(state, 7, config),
        sick_leave_rate_28d=sick_leave_rate(state, 28, config),
        occasions_per_employee_12m=occasions_fig,
        sick_leave_cost_sek_month_to_date=_figure(cost_mtd, cost_mtd, cost_mtd, cost_mtd, 1.0, headcount,
                                                  config),
        sick_leave_cost_sek_12m=_figure(cost_12m, cost_12m, cost_12m, cost_12m, 1.0, headcount, config),
        ed_visits_per_1000_30d=_figure(ed_rate, ed_low, ed_high, ed, population, population, config),
        readmission_rate_30d=_proportion(readmitted, discharges, population, config),
        unplanned_home_care_share_28d=_proportion(unplanned, contacts, population, config),
    )

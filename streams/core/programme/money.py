"""What outcomes cost in a person-month, and from when a programme costs: the cost tables
(`core/programme_config.py`, configured) applied to the ledgers' monthly totals."""

from __future__ import annotations

from streams.core.programme.month_totals import (
    ED_VISITS,
    HOME_CARE_UNPLANNED_MINUTES,
    INPATIENT_DAYS,
    LONG_DAYS,
    SHORT_DAYS,
    MonthTotals,
)
from streams.core.programme.months import Month, parse_month
from streams.core.programme_config import CostTable, ProgrammeCost, SickLeaveCost

__all__ = ["CostTable", "ProgrammeCost", "SickLeaveCost", "care_cost", "cost_start", "sick_leave_cost"]


def care_cost(table: CostTable, totals: MonthTotals) -> float:
    """Unplanned care consumption of one person-month (planned stays are the care plan, not avoided)."""
    return (totals.get(INPATIENT_DAYS) * table.inpatient_day_sek + totals.get(ED_VISITS) * table.ed_visit_sek
            + totals.get(HOME_CARE_UNPLANNED_MINUTES) / 60.0 * table.home_care_hour_sek)


def sick_leave_cost(table: CostTable, totals: MonthTotals, unit_id: str) -> float:
    """The employer's cost of one person-month of sick leave, at the salary of the person's unit."""
    return (totals.get(SHORT_DAYS) * table.sick_leave.short_day(unit_id)
            + totals.get(LONG_DAYS) * table.sick_leave.long_day(unit_id))


def cost_start(cost: ProgrammeCost, first_enrolment: Month) -> Month:
    """The first month the programme costs: its configured start, else its first enrolment."""
    return parse_month(cost.start_month) if cost.start_month else first_enrolment

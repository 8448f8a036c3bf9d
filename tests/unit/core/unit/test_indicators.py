"""Unit figures: rates with their interval and denominator, cost, and no figure for small groups."""

from __future__ import annotations

from streams.core.config import MonitorConfig
from streams.core.unit.indicators import unit_indicators
from tests.helpers import event, run, sick_days


def staffing(headcount: int, day: int = 0) -> str:
    return event("staffing", day, headcount=headcount)


def test_sick_leave_rate_is_weighted_days_over_headcount_days_with_an_interval() -> None:
    lines = [staffing(20)] + sick_days(list(range(0, 7)), "emp-1") + sick_days(list(range(0, 7)), "emp-2",
                                                                                 extent=0.5)
    m = run(lines)
    ind = unit_indicators(m.units["unit-a"], m.config)
    rate = ind.sick_leave_rate_7d
    assert rate.numerator == 10.5 and rate.denominator == 140
    assert rate.value == 0.075
    assert rate.low is not None and rate.high is not None
    assert rate.low < 0.075 < rate.high


def test_a_group_of_10_publishes_no_figure_and_11_does() -> None:
    lines = sick_days([0, 1, 2])
    small = unit_indicators(run([staffing(10)] + lines).units["unit-a"], MonitorConfig())
    assert small.sick_leave_rate_7d.suppressed and small.sick_leave_rate_7d.value is None
    assert small.sick_leave_cost_sek_12m.value is None
    big = unit_indicators(run([staffing(11)] + lines).units["unit-a"], MonitorConfig())
    assert not big.sick_leave_rate_7d.suppressed and big.sick_leave_rate_7d.value is not None


def test_the_group_size_threshold_is_configurable() -> None:
    config = MonitorConfig(min_group_size=5)
    m = run([staffing(6)] + sick_days([0, 1]), config)
    assert unit_indicators(m.units["unit-a"], config).sick_leave_rate_7d.value is not None


def test_cost_counts_days_1_to_14_at_10_percent_and_later_days_at_2_5_percent_of_salary() -> None:
    m = run([staffing(30)] + sick_days(list(range(0, 20))))
    ind = unit_indicators(m.units["unit-a"], m.config)
    assert ind.sick_leave_cost_sek_12m.value == 14 * 3600 + 6 * 900


def test_occasions_per_employee_count_occasions_not_days() -> None:
    m = run([staffing(20)] + sick_days([0, 1, 2, 3]) + sick_days([30], "emp-2") + sick_days([60], "emp-2"))
    ind = unit_indicators(m.units["unit-a"], m.config)
    assert ind.occasions_per_employee_12m.numerator == 3


def test_ed_visits_per_1000_use_the_units_known_population() -> None:
    lines = [event("home_care_contact", 0, person_id=f"pat-{i}", unit_id="vc", minutes=20, planned=True)
             for i in range(40)]
    lines += [event("emergency_visit", 5, person_id=f"pat-{i}", unit_id="vc") for i in range(4)]
    m = run(lines)
    ind = unit_indicators(m.units["vc"], m.config)
    assert ind.population == 40
    assert ind.ed_visits_per_1000_30d.value == 100.0
    assert ind.unplanned_home_care_share_28d.value == 0.0


def test_a_share_of_nothing_is_no_figure_not_zero() -> None:
    # 40 persons in home care, none discharged: no readmission share (0 of 0 is no evidence), while the
    # home-care share, 0 of 40 contacts, is a figure of 0 with its interval.
    lines = [event("home_care_contact", 0, person_id=f"pat-{i}", unit_id="vc", minutes=20, planned=True)
             for i in range(40)]
    ind = unit_indicators(run(lines).units["vc"], MonitorConfig())
    share = ind.readmission_rate_30d
    assert share.denominator == 0 and not share.suppressed
    assert (share.value, share.low, share.high) == (None, None, None)
    home = ind.unplanned_home_care_share_28d
    assert home.value == 0.0 and home.high is not None and 0 < home.high < 1

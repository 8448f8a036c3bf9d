"""What the worker publishes to Prometheus: unit figures with intervals, nothing for small groups,
nothing that names a person."""

from __future__ import annotations

from prometheus_client import generate_latest

from streams.core.config import MonitorConfig
from streams.core.unit.indicators import unit_indicators
from streams.observe.metrics import Metrics
from tests.helpers import event, run, sick_days


def exposition(headcount: int, config: MonitorConfig | None = None) -> str:
    config = config or MonitorConfig()
    lines = [event("staffing", 0, headcount=headcount, unit_id="hr-a")]
    lines += sick_days([0, 1, 2, 3], "emp-1", unit_id="hr-a") + sick_days([2], "emp-2", unit_id="hr-a")
    m = run(lines, config)
    metrics = Metrics()
    metrics.set_unit(unit_indicators(m.units["hr-a"], config))
    return generate_latest(metrics.registry).decode()


def test_a_unit_of_11_publishes_its_rate_with_interval() -> None:
    text = exposition(11)
    for name in ("outcome_unit_sick_leave_rate_ratio", "outcome_unit_sick_leave_rate_lower_ratio",
                 "outcome_unit_sick_leave_rate_upper_ratio", "outcome_unit_occasions_per_employee",
                 "outcome_unit_sick_leave_cost_sek"):
        assert f'{name}{{' in text and 'unit="hr-a"' in text, name


def test_a_unit_of_10_publishes_no_figure_not_even_its_size() -> None:
    text = exposition(10)
    assert 'outcome_unit_sick_leave_rate_ratio{' not in text
    assert 'outcome_unit_occasions_per_employee{' not in text
    assert 'outcome_unit_sick_leave_cost_sek{' not in text
    assert 'outcome_unit_group_size{' not in text
    assert 'outcome_unit_group_size{kind="employees",unit="hr-a"} 11.0' in exposition(11)


def test_the_threshold_is_configurable() -> None:
    assert 'outcome_unit_sick_leave_rate_ratio{' in exposition(6, MonitorConfig(min_group_size=5))


def test_a_figure_that_becomes_suppressed_disappears() -> None:
    config = MonitorConfig()
    metrics = Metrics()
    big = run([event("staffing", 0, headcount=30, unit_id="hr-a")] + sick_days([0, 1], unit_id="hr-a"))
    metrics.set_unit(unit_indicators(big.units["hr-a"], config))
    small = run([event("staffing", 0, headcount=8, unit_id="hr-a")] + sick_days([0, 1], unit_id="hr-a"))
    metrics.set_unit(unit_indicators(small.units["hr-a"], config))
    assert 'outcome_unit_sick_leave_rate_ratio{' not in generate_latest(metrics.registry).decode()


def test_no_series_names_a_person() -> None:
    text = exposition(30)
    assert "emp-" not in text and "p_" not in text.replace("group_size", "")


def test_a_share_of_nothing_publishes_no_series() -> None:
    lines = [event("home_care_contact", 0, person_id=f"pat-{i}", unit_id="vc", minutes=20, planned=True)
             for i in range(40)]
    metrics = Metrics()
    metrics.set_unit(unit_indicators(run(lines).units["vc"], MonitorConfig()))
    text = generate_latest(metrics.registry).decode()
    assert 'outcome_unit_unplanned_home_care_ratio{unit="vc"} 0.0' in text
    assert 'outcome_unit_readmission_ratio{' not in text
    assert 'outcome_unit_readmission_lower_ratio{' not in text

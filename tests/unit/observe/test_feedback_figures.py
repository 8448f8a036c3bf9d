"""How flags were handled, as published: per rule and unit label, small units summed as "other" before
any share or mean is taken; series of a (rule, unit) that is gone are removed; labels are rule, unit
and resolution only. The "Flag handling" board's queries are run by the real `promtool` over series
the worker's Metrics publish, as two workers holding the same read model would."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml
from prometheus_client import generate_latest

from streams.core.config import MonitorConfig
from streams.core.disclosure import OTHER_UNITS, UnitLabels, UnitSize, feedback_by_label, labeller
from streams.core.handling.board import Feedback
from streams.models.handling import Resolution
from streams.models.vocab import Rule
from streams.observe.dashboards import flag_handling, panel_queries
from streams.observe.metric_names import MetricName
from streams.observe.metrics import Metrics

CONFIG = MonitorConfig(min_group_size=11, max_unit_labels=10)
REPEATED, READMISSION, LONG = Rule.REPEATED_SICK_LEAVE.value, Rule.READMISSION_30D.value, Rule.LONG_SICK_LEAVE.value
FA, AT, NAN = Resolution.FALSE_ALARM, Resolution.ACTION_TAKEN, Resolution.NO_ACTION_NEEDED
SIZES = {"small-a": UnitSize(employees=5, persons=0), "small-b": UnitSize(employees=7, persons=0),
         "big": UnitSize(employees=40, persons=0), "care": UnitSize(employees=8, persons=60)}
FEEDBACK_NAMES = {MetricName.FLAGS_RESOLVED, MetricName.FLAGS_ACKNOWLEDGED,
                  MetricName.FLAGS_TIME_TO_ACKNOWLEDGE_SECONDS, MetricName.FLAGS_TIME_TO_RESOLVE_SECONDS}


def feedback() -> dict[tuple[str, str], Feedback]:
    return {
        # two small units: 1 false alarm of 1, and 1 of 3 -> "other": 2 of 4 (not the mean of 1 and 1/3)
        (REPEATED, "small-a"): Feedback({FA: 1}, acknowledged=1, seconds_to_acknowledge=100,
                                        seconds_to_resolve=200),
        (REPEATED, "small-b"): Feedback({FA: 1, NAN: 2}, acknowledged=3, seconds_to_acknowledge=500,
                                        seconds_to_resolve=1000),
        (REPEATED, "big"): Feedback({AT: 4}, acknowledged=4, seconds_to_acknowledge=400, seconds_to_resolve=2800),
        # 8 employees but 60 persons in care: its own label for a care rule, "other" for an employee rule
        (READMISSION, "care"): Feedback({FA: 1, AT: 1}, acknowledged=2, seconds_to_acknowledge=100,
                                        seconds_to_resolve=500),
        (LONG, "care"): Feedback(),  # only snoozed: nothing resolved or acknowledged yet
    }


def test_small_units_are_summed_into_other_before_shares_and_means_are_taken() -> None:
    rows = feedback_by_label(feedback(), labeller(SIZES, UnitLabels(CONFIG), CONFIG))
    assert set(rows) == {(REPEATED, OTHER_UNITS), (REPEATED, "big"), (READMISSION, "care"), (LONG, OTHER_UNITS)}
    other = rows[(REPEATED, OTHER_UNITS)]
    assert other.resolved == {FA: 2, NAN: 2}
    assert other.false_alarm_share == 0.5  # 2 of 4; the mean of the two units' shares would be 2/3
    assert other.acknowledged == 4 and other.seconds_to_acknowledge / other.acknowledged == 150
    assert other.seconds_to_resolve == 1200
    assert rows[(REPEATED, "big")].false_alarm_share == 0
    assert rows[(READMISSION, "care")].false_alarm_share == 0.5
    assert rows[(LONG, OTHER_UNITS)].false_alarm_share is None


def test_two_small_units_with_one_false_alarm_of_two_each_are_two_of_four() -> None:
    one_of_two = {(REPEATED, u): Feedback({FA: 1, AT: 1}, acknowledged=2) for u in ("small-a", "small-b")}
    rows = feedback_by_label(one_of_two, labeller(SIZES, UnitLabels(CONFIG), CONFIG))
    assert list(rows) == [(REPEATED, OTHER_UNITS)]
    assert rows[(REPEATED, OTHER_UNITS)].resolved == {FA: 2, AT: 2}
    assert rows[(REPEATED, OTHER_UNITS)].acknowledged == 4


def test_merging_leaves_the_read_model_unchanged_and_units_beyond_the_label_limit_go_to_other() -> None:
    given = feedback()
    before = {k: (dict(v.resolved), v.acknowledged, v.seconds_to_acknowledge) for k, v in given.items()}
    feedback_by_label(given, labeller(SIZES, UnitLabels(CONFIG), CONFIG))
    assert {k: (dict(v.resolved), v.acknowledged, v.seconds_to_acknowledge) for k, v in given.items()} == before
    one_label = MonitorConfig(min_group_size=11, max_unit_labels=1)
    rows = feedback_by_label({(REPEATED, "big"): Feedback({AT: 1}), (READMISSION, "care"): Feedback({FA: 1})},
                             labeller(SIZES, UnitLabels(one_label), one_label))
    assert set(rows) == {(READMISSION, "care"), (REPEATED, OTHER_UNITS)}  # asked in (rule, unit) order


def exposition(metrics: Metrics) -> str:
    """The samples, without the HELP and TYPE lines."""
    return "\n".join(line for line in generate_latest(metrics.registry).decode().splitlines()
                     if not line.startswith("#"))


def test_every_resolution_has_a_series_and_a_vanished_row_loses_all_of_its_series() -> None:
    metrics = Metrics()
    metrics.set_feedback(feedback_by_label(feedback(), labeller(SIZES, UnitLabels(CONFIG), CONFIG)))
    text = exposition(metrics)
    assert 'outcome_flags_resolved{resolution="action_taken",rule="repeated_sick_leave",unit="other"} 0.0' in text
    assert 'outcome_flags_resolved{resolution="false_alarm",rule="repeated_sick_leave",unit="other"} 2.0' in text
    assert 'outcome_flags_time_to_acknowledge_seconds{rule="repeated_sick_leave",unit="other"} 600.0' in text

    # "care" grows out of the feedback (e.g. its flags withdrawn), "big" gets another resolution
    metrics.set_feedback({(REPEATED, "big"): Feedback({AT: 5}, acknowledged=5)})
    text = exposition(metrics)
    assert 'unit="care"' not in text and 'unit="other"' not in text
    assert 'outcome_flags_resolved{resolution="action_taken",rule="repeated_sick_leave",unit="big"} 5.0' in text
    metrics.set_feedback({})
    assert not any(f"{name}{{" in exposition(metrics) for name in FEEDBACK_NAMES)


def test_the_feedback_series_carry_rule_unit_and_resolution_only() -> None:
    metrics = Metrics()
    metrics.set_feedback(feedback_by_label(feedback(), labeller(SIZES, UnitLabels(CONFIG), CONFIG)))
    seen = 0
    for family in metrics.registry.collect():
        if family.name not in FEEDBACK_NAMES:
            continue
        for sample in family.samples:
            seen += 1
            assert set(sample.labels) <= {"rule", "unit", "resolution"}, sample
            assert sample.labels["rule"] in {r.value for r in Rule}
            assert sample.labels.get("resolution", FA.value) in {r.value for r in Resolution}
    assert seen == 4 * 3 + 4 * 3  # 4 rows: 3 resolutions each, and acknowledged and both sums


# -- the board, evaluated by the real promtool ---------------------------------------------------------

WORKERS = ("127.0.0.1:6066", "127.0.0.1:6067")


def input_series(metrics: Metrics) -> list[dict[str, str]]:
    out = []
    for family in metrics.registry.collect():
        if family.name not in FEEDBACK_NAMES:
            continue
        for sample in family.samples:
            for instance in WORKERS:  # the same read model on both workers
                labels = {**sample.labels, "job": "outcome-monitor", "instance": instance}
                inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
                out.append({"series": f"{sample.name}{{{inner}}}", "values": f"{sample.value:g}x10"})
    return out


def samples(*rows: tuple[dict[str, str], float]) -> list[dict[str, object]]:
    return [{"labels": "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}", "value": value}
            for labels, value in rows]


EXPECTED = {
    "False-alarm share by rule": samples(({"rule": REPEATED}, 0.25), ({"rule": READMISSION}, 0.5)),
    "False-alarm share by unit and rule": samples(({"rule": REPEATED, "unit": OTHER_UNITS}, 0.5),
                                                  ({"rule": REPEATED, "unit": "big"}, 0),
                                                  ({"rule": READMISSION, "unit": "care"}, 0.5)),
    "Mean time to acknowledge by rule": samples(({"rule": REPEATED}, 125), ({"rule": READMISSION}, 50)),
    "Mean time to resolve by rule": samples(({"rule": REPEATED}, 500), ({"rule": READMISSION}, 250)),
    # counted once, though two workers publish them
    "Resolutions by outcome": samples(({"resolution": AT.value}, 5), ({"resolution": NAN.value}, 2),
                                      ({"resolution": FA.value}, 3)),
    "Resolutions by rule and outcome": samples(*[({"rule": rule, "resolution": r.value}, n) for rule, counts in (
        (REPEATED, {AT: 4, NAN: 2, FA: 2}), (READMISSION, {AT: 1, NAN: 0, FA: 1}), (LONG, {AT: 0, NAN: 0, FA: 0}))
        for r, n in counts.items()]),
}


def test_the_flag_handling_board_computes_shares_and_means_once_across_workers(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is needed: Debian's prometheus package (scripts/system-deps.sh test installs it)"
    metrics = Metrics()
    metrics.set_feedback(feedback_by_label(feedback(), labeller(SIZES, UnitLabels(CONFIG), CONFIG)))
    queries = panel_queries(flag_handling())
    assert {title for title, _ in queries} == set(EXPECTED)
    tests = [{"expr": expr.replace("$unit", ".*"), "eval_time": "5m", "exp_samples": EXPECTED[title]}
             for title, expr in queries]
    (tmp_path / "tests.yml").write_text(yaml.safe_dump({"rule_files": [], "evaluation_interval": "1m", "tests": [
        {"interval": "1m", "input_series": input_series(metrics), "promql_expr_test": tests}]}))
    result = subprocess.run([promtool, "test", "rules", "tests.yml"], capture_output=True, text=True,
                            cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr

"""The shipped alerting rules and the Prometheus and Alertmanager configs are valid for the real tools
(promtool, amtool), name only metrics and rules the worker has, carry no person, and fire when they
should: `promtool test rules` over synthetic series, with the shipped expressions, `for:` and labels."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from streams.models.vocab import UNIT_FLAG_RULES, Rule
from streams.observe.metric_names import MetricName

ROOT = Path(__file__).resolve().parents[3]
RULES = ROOT / "streams" / "alerts" / "rules.yml"
ALERTS = [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]
METRICS = {str(m) for m in MetricName}
MISSING = ("{tool} is needed: Debian's {package} package (scripts/system-deps.sh test installs it;"
           " `make test` runs it)")


def tool(name: str, package: str) -> str:
    """Never skipped: `make test` installs the tools, so a missing one is a failure that says what to do."""
    path = shutil.which(name)
    assert path, MISSING.format(tool=name, package=package)
    return path


def run(argv: list[str], cwd: Path = ROOT) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_promtool_accepts_the_rules_and_both_prometheus_configs() -> None:
    promtool = tool("promtool", "prometheus")
    run([promtool, "check", "rules", str(RULES)])
    for config in ("prometheus.yml", "docker-prometheus.yml"):
        out = run([promtool, "check", "config", str(ROOT / "prometheus" / config)])
        assert "streams/alerts/rules.yml" in out, out  # the alerting rules are loaded, not only the recording ones


def test_amtool_accepts_the_alertmanager_config() -> None:
    run([tool("amtool", "prometheus-alertmanager"), "check-config", str(ROOT / "prometheus" / "alertmanager.yml")])


def test_alerts_name_only_metrics_and_rules_the_worker_has_and_cover_every_unit_rule() -> None:
    covered = set()
    for alert in ALERTS:
        for name in re.findall(r"\boutcome_[a-z0-9_]+", alert["expr"]):
            assert name in METRICS, (alert["alert"], name)
        for rule in re.findall(r'rule="([^"]+)"', alert["expr"]):
            covered.add(Rule(rule))
        for pattern in re.findall(r'rule=~"([^"]+)"', alert["expr"]):  # PromQL matches anchored
            matched = {r for r in Rule if re.fullmatch(pattern, r.value)}
            assert matched, (alert["alert"], pattern)
            covered |= matched
    assert covered >= UNIT_FLAG_RULES


def test_every_alert_has_a_severity_and_words_and_names_a_unit_at_most() -> None:
    for alert in ALERTS:
        assert set(alert["labels"]) == {"severity"}, alert["alert"]
        assert alert["labels"]["severity"] in ("warning", "critical"), alert["alert"]
        assert alert["annotations"]["summary"] and alert["annotations"]["description"], alert["alert"]
        # by (...) keeps only bounded labels; the words name nothing else
        for kept in re.findall(r"by \(([^)]*)\)", alert["expr"]):
            assert {k.strip() for k in kept.split(",")} <= {"unit", "topic", "stage", "partition"}, alert["alert"]
        for text in alert["annotations"].values():
            assert set(re.findall(r"\$labels\.(\w+)", text)) <= {"unit", "topic", "instance", "stage",
                                                                    "partition"}, alert["alert"]
    routing = yaml.safe_load((ROOT / "prometheus" / "alertmanager.yml").read_text())
    assert routing["route"]["group_by"] == ["alertname", "unit"]


def series(name: str, labels: dict[str, str], values: str) -> dict[str, str]:
    inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return {"series": f"{name}{{{inner}}}", "values": values}


def alert(name: str, at: str, *expected: dict[str, str]) -> dict[str, Any]:
    return {"eval_time": at, "alertname": name, "exp_alerts": [{"exp_labels": labels} for labels in expected]}


WORKER = {"job": "outcome-monitor", "instance": "127.0.0.1:6066"}
DRIFT, DOWN, LAG, DEAD, FAILED = ("OutcomeUnitSickLeaveDrift", "OutcomeMonitorWorkerDown",
                                  "OutcomeMonitorConsumerLagGrowing", "OutcomeMonitorDeadLetterRate",
                                  "OutcomeMonitorProcessingFailed")
STALLED, LOST = "OutcomeMonitorPartitionStalled", "OutcomeMonitorDeadLetterLost"
CASES: list[dict[str, Any]] = [
    {  # a unit's drift flag: at once, with the unit only; a person rule's flags: nothing; the series
       # gone for a while (a worker restart): still firing; gone for good: resolved
        "interval": "1m",
        "input_series": [
            series("outcome_flags_open", {**WORKER, "rule": "unit_sick_leave_drift", "unit": "hr-unit-01"},
                   "1x5 stale"),
            series("outcome_flags_open", {**WORKER, "rule": "repeated_sick_leave", "unit": "hr-unit-02"}, "3x60"),
        ],
        "alert_rule_test": [
            alert(DRIFT, "0m", {"severity": "warning", "unit": "hr-unit-01"}),
            alert(DRIFT, "20m", {"severity": "warning", "unit": "hr-unit-01"}),
            alert(DRIFT, "60m"),
        ],
    },
    {  # a worker that does not answer for 2 minutes; a scrape missed once does not page
        "interval": "1m",
        "input_series": [series("up", WORKER, "1 0 0 0 0 0"),
                         series("up", {**WORKER, "instance": "127.0.0.1:6067"}, "1 0 1 1 1 1")],
        "alert_rule_test": [alert(DOWN, "1m"), alert(DOWN, "3m", {"severity": "critical", **WORKER})],
    },
    {  # a backlog that keeps growing fires; a large backlog that drains does not
        "interval": "1m",
        "input_series": [series("outcome_consumer_lag_messages", {**WORKER, "topic": "care.events"}, "0+100x60"),
                         series("outcome_consumer_lag_messages", {**WORKER, "topic": "x.unit-updates"},
                                "50000-500x60")],
        "alert_rule_test": [alert(LAG, "10m"),
                            alert(LAG, "45m", {"severity": "warning", "topic": "care.events"})],
    },
    {  # 1 in 11 events rejected for 25 minutes fires; 1 in 101 would not (next case)
        "interval": "1m",
        "input_series": [series("outcome_events_consumed_total", {**WORKER, "type": "sick_leave"}, "0+600x40"),
                         series("outcome_events_rejected_total", {**WORKER, "reason": "not_json"}, "0+60x40")],
        "alert_rule_test": [alert(DEAD, "5m"), alert(DEAD, "30m", {"severity": "warning"})],
    },
    {
        "interval": "1m",
        "input_series": [series("outcome_events_consumed_total", {**WORKER, "type": "sick_leave"}, "0+600x40"),
                         series("outcome_events_rejected_total", {**WORKER, "reason": "too_late"}, "0+6x40")],
        "alert_rule_test": [alert(DEAD, "30m"), alert(FAILED, "30m")],
    },
    {
        "interval": "1m",
        "input_series": [series("outcome_events_rejected_total", {**WORKER, "reason": "processing_failed"},
                                "1x10")],
        "alert_rule_test": [alert(FAILED, "1m", {"severity": "warning"})],
    },
    {  # a partition stalled for 3 minutes pages with its stage and partition; one stalled for a minute
       # (a blip between two observations) and the others do not
        "interval": "1m",
        "input_series": [
            series("outcome_partition_stalled", {**WORKER, "stage": "ingest", "partition": "2"}, "0 0 1 1 1 1 0 0"),
            series("outcome_partition_stalled", {**WORKER, "stage": "persons", "partition": "2"}, "0 1 0 0 0 0 0 0"),
            series("outcome_partition_stalled", {**WORKER, "stage": "ingest", "partition": "0"}, "0x8"),
        ],
        "alert_rule_test": [alert(STALLED, "3m"),
                            alert(STALLED, "5m", {"severity": "critical", "stage": "ingest", "partition": "2"}),
                            alert(STALLED, "7m")],
    },
    {
        "interval": "1m",
        "input_series": [series("outcome_dead_letters_lost_total", {**WORKER, "reason": "too_large"}, "0 0 1 1")],
        "alert_rule_test": [alert(LOST, "1m"), alert(LOST, "2m", {"severity": "warning"})],
    },
]


def test_the_alerts_fire_when_they_should_and_only_then(tmp_path: Path) -> None:
    promtool = tool("promtool", "prometheus")
    # The shipped expressions, `for:`, keep_firing_for and labels; annotations are left out because
    # promtool compares them verbatim (they are checked above for being there).
    shipped = yaml.safe_load(RULES.read_text())
    for group in shipped["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(shipped))
    (tmp_path / "tests.yml").write_text(yaml.safe_dump({
        "rule_files": ["rules.yml"], "evaluation_interval": "1m", "tests": CASES}))
    run([promtool, "test", "rules", "tests.yml"], cwd=tmp_path)


def test_the_readme_lists_every_shipped_alert_and_no_other() -> None:
    # An alert that fires in Alertmanager but is missing from the README's table leaves its recipient
    # without the meaning of it (a stranger found two missing).
    readme = (ROOT / "docs" / "metrics-and-boards.md").read_text()
    table = readme[readme.index("### Alerts (Prometheus + Alertmanager)"):]
    table = table[:table.index("\n\n", table.index("| alert |"))]
    listed = set(re.findall(r"^\| `(\w+)` \|", table, re.M))
    assert listed == {a["alert"] for a in ALERTS if "alert" in a}

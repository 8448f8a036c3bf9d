"""The Grafana dashboards, built with the JSON model of `observe/panels.py`.

Every panel reads the Prometheus datasource with the fixed uid there; `grafana/dashboards/*.json` is
generated from here (`outcome-monitor grafana dashboards`) and a test fails when it is stale. Boards
show units and programmes only: no metric carries a person.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from streams import generated
from streams.core.programme.cohort import COST_SEK
from streams.observe.metric_names import MetricName as M
from streams.observe.panels import (
    DATASOURCE,
    DATASOURCE_UID,
    dashboard,
    label_variable,
    merged_table,
    table,
    target,
    timeseries,
    unit_variable,
    with_band,
)
from streams.observe.programme_metrics import bounds

# DATASOURCE_UID is read from here by provisioning and the tests, beside the folder it goes into.
__all__ = ["DASHBOARD_DIR", "DATASOURCE_UID", "FOLDER_TITLE", "FOLDER_UID", "across_workers", "all_dashboards",
           "care", "flag_handling", "flags", "panel_queries", "pipeline", "programmes", "rendered", "sick_leave",
           "stale", "write"]

FOLDER_UID = "outcome-monitor"
FOLDER_TITLE = "Outcome monitor"
DASHBOARD_DIR = Path(__file__).resolve().parents[2] / "grafana" / "dashboards"
UNIT = 'unit=~"$unit"'
PROGRAMME = 'programme=~"$programme"'


def sick_leave() -> dict[str, Any]:
    # While a unit has an open drift flag (robust to scrape timing, unlike a change in a counter).
    drift = {"name": "Drift flags", "datasource": DATASOURCE, "enable": True, "iconColor": "red",
             "expr": f'max by (unit, rule) ({M.FLAGS_OPEN}{{rule="unit_sick_leave_drift", ' + UNIT + "}) > 0",
             "titleFormat": "Sick-leave drift open", "textFormat": "unit {{unit}}", "tagKeys": "unit,rule",
             "step": "60s"}
    return dashboard("om-sick-leave", "Sick leave by unit", [
        timeseries("Sick-leave rate, 28 days (95% interval)",
                   with_band(M.UNIT_SICK_LEAVE_RATE_RATIO, f'window="28d", {UNIT}', "{{unit}}"),
                   "percentunit", band=True,
                   description="Sick days weighted by extent / headcount-days. Units of 10 or fewer "
                               "employees publish no figure."),
        timeseries("Sick-leave rate, 7 days (95% interval)",
                   with_band(M.UNIT_SICK_LEAVE_RATE_RATIO, f'window="7d", {UNIT}', "{{unit}}"),
                   "percentunit", band=True),
        timeseries("Trend-adjusted level vs the rest of the organisation",
                   [*with_band(M.UNIT_RELATIVE_SICK_LEAVE_RATIO, UNIT, "{{unit}}"),
                    target(f"{M.UNIT_BASELINE_SICK_LEAVE_RATIO}{{{UNIT}}}", "{{unit}} baseline", "D")],
                   "short", band=True,
                   description="New occasions last week relative to the rest of the organisation in the same "
                               "week (1 = as the rest); a flu season lifts both. Baseline = the unit's usual."),
        timeseries("Occasions per employee, 12 months (95% interval)",
                   with_band(M.UNIT_OCCASIONS_PER_EMPLOYEE, UNIT, "{{unit}}"), "short", band=True,
                   description="Short repeated absence is the costly, predictive kind: occasions, not days."),
        table("Sick-leave cost this month (SEK)",
              f'{M.UNIT_SICK_LEAVE_COST_SEK}{{period="month_to_date", {UNIT}}}', "currencySEK"),
        table("Employees per unit", f'{M.UNIT_GROUP_SIZE}{{kind="employees", {UNIT}}}'),
        table("Monitoring state per unit", _state('outcome="sick_leave"', "unit, state"),
              description=STATE_HELP),
    ], variables=[unit_variable(M.UNIT_GROUP_SIZE)], annotations=[drift],
        description="Unit-level sick leave with uncertainty; no figure identifies a person.")


STATE_HELP = ("building_up: the look-back is not yet covered since the history began (a care unit's 365 "
              "days of persons in care; readmissions' 30-day follow-up): its weeks are incomplete, neither "
              "learned from nor tested, and no unit flag can be raised. warming_up: complete weeks are "
              "learning the unit's usual level. monitored: drift and level flags can be raised.")


def _state(outcomes: str, by: str) -> str:
    """The one state each unit outcome is in (the gauge is 1 for it, 0 for the others)."""
    return f"max by ({by}) ({M.UNIT_MONITORING_STATE}{{{outcomes}, {UNIT}}}) == 1"


def care() -> dict[str, Any]:
    return dashboard("om-care", "Care utilisation", [
        timeseries("ED visits per 1000 persons, 30 days (95% interval)",
                   with_band(M.UNIT_ED_VISITS_PER_1000, UNIT, "{{unit}}"), "short", band=True),
        timeseries("30-day readmission rate (95% interval)",
                   with_band(M.UNIT_READMISSION_RATIO, UNIT, "{{unit}}"), "percentunit", band=True,
                   description="Share of discharges (with complete 30-day follow-up) followed by an "
                               "unplanned admission."),
        timeseries("Unplanned home-care contacts, 28 days (95% interval)",
                   with_band(M.UNIT_UNPLANNED_HOME_CARE_RATIO, UNIT, "{{unit}}"), "percentunit",
                   band=True),
        table("Persons per care unit (last 365 days)", f'{M.UNIT_GROUP_SIZE}{{kind="persons", {UNIT}}}'),
        table("Monitoring state per unit and outcome", _state('outcome!="sick_leave"', "unit, outcome, state"),
              description=STATE_HELP),
    ], variables=[unit_variable(M.UNIT_GROUP_SIZE)],
        description="Nära vård: region and municipality outcomes for the same people, by unit.")


def flags() -> dict[str, Any]:
    return dashboard("om-flags", "Flags", [
        timeseries("Open flags by rule", [target("outcome:flags_open:by_rule", "{{rule}}")]),
        timeseries("Flags raised per hour by rule",
                   [target(f"sum by (rule) (increase({M.FLAGS_RAISED_TOTAL}[1h]))", "{{rule}}")]),
        table("Open flags by unit and rule", f"sum by (unit, rule) ({M.FLAGS_OPEN})"),
        timeseries("Flags withdrawn per hour (late data, retraction, conflicting duplicate)",
                   # "or ... * 0" shows a zero line for rules with nothing withdrawn, instead of no data.
                   [target(f"sum by (rule) (increase({M.FLAGS_WITHDRAWN_TOTAL}[1h])) "
                           f"or sum by (rule) (increase({M.FLAGS_RAISED_TOTAL}[1h])) * 0", "{{rule}}")]),
    ], description="Flags by rule and unit. Person flags are counted here; their evidence goes to the "
                   "alert recipients, never to a board.")


def across_workers(metric: str, selector: str = "", *, by: str = "rule, unit") -> str:
    """The handling gauges are the same global read model on every worker: one series per label set,
    taken with `max` across instances (a `sum` would count each flag once per worker)."""
    return f"max by ({by}) ({metric}{{{selector}}})" if selector else f"max by ({by}) ({metric})"


def flag_handling() -> dict[str, Any]:
    resolved = across_workers(M.FLAGS_RESOLVED, by="rule, unit, resolution")
    false_alarms = across_workers(M.FLAGS_RESOLVED, 'resolution="false_alarm"')
    unit_resolved = across_workers(M.FLAGS_RESOLVED, UNIT, by="rule, unit, resolution")
    unit_false_alarms = across_workers(M.FLAGS_RESOLVED, f'resolution="false_alarm", {UNIT}')
    # "> 0": a rule with nothing resolved (or acknowledged) yet has no share or mean, not 0/0.
    return dashboard("om-flag-handling", "Flag handling", [
        timeseries("False-alarm share by rule",
                   [target(f"sum by (rule) ({false_alarms}) / (sum by (rule) ({resolved}) > 0)", "{{rule}}")],
                   "percentunit",
                   description="Flags resolved as false alarm / all flags resolved. A rule that is often a "
                               "false alarm needs a better threshold."),
        table("False-alarm share by unit and rule",
              f"{unit_false_alarms} / (sum by (rule, unit) ({unit_resolved}) > 0)", "percentunit",
              description='Units below the minimum group size are taken together as unit "other".'),
        timeseries("Mean time to acknowledge by rule",
                   [target(f"sum by (rule) ({across_workers(M.FLAGS_TIME_TO_ACKNOWLEDGE_SECONDS)}) / "
                           f"(sum by (rule) ({across_workers(M.FLAGS_ACKNOWLEDGED)}) > 0)", "{{rule}}")],
                   "s", description="From the flag first seen to its acknowledgement, over flags acknowledged."),
        timeseries("Mean time to resolve by rule",
                   [target(f"sum by (rule) ({across_workers(M.FLAGS_TIME_TO_RESOLVE_SECONDS)}) / "
                           f"(sum by (rule) ({resolved}) > 0)", "{{rule}}")],
                   "s", description="From the flag first seen to its resolution, over flags resolved."),
        timeseries("Resolutions by outcome",
                   [target(f"sum by (resolution) ({resolved})", "{{resolution}}")],
                   description="Flags resolved: action taken, no action needed, false alarm."),
        table("Resolutions by rule and outcome", f"sum by (rule, resolution) ({resolved})"),
    ], variables=[unit_variable(M.FLAGS_RESOLVED)],
        description="What recipients did with the flags: false alarms and time to act, by rule and unit. "
                    "Counts of flags only, no person.")


def pipeline() -> dict[str, Any]:
    return dashboard("om-pipeline", "Pipeline health", [
        timeseries("Events consumed per second by type", [target("outcome:events_consumed:rate1m", "{{type}}")],
                   "ops"),
        timeseries("Events rejected per second by reason",
                   [target("outcome:events_rejected:rate1m", "{{reason}}")], "ops"),
        timeseries("Duplicates and late events per second",
                   [target(f"sum(rate({M.EVENTS_DUPLICATE_TOTAL}[1m]))", "duplicates", "A"),
                    target(f"sum(rate({M.EVENTS_LATE_TOTAL}[1m]))", "late (within the bound)", "B")],
                   "ops"),
        timeseries("Processing latency p50 / p99",
                   [target("outcome:processing_latency_seconds:p50", "p50", "A"),
                    target("outcome:processing_latency_seconds:p99", "p99", "B")], "s"),
        timeseries("Consumer lag by topic", [target(f"sum by (topic) ({M.CONSUMER_LAG_MESSAGES})", "{{topic}}")]),
        timeseries("State table entries", [target(f"sum by (table) ({M.TABLE_ENTRIES})", "{{table}}")]),
    ], description="Is the monitor keeping up, and what does it reject?")


def _column(metric: str, selector: str = PROGRAMME) -> str:
    """A table column's query: without the metric name, instance and job, so that the columns of a
    merged table share their labels (and a figure published by several workers is one row)."""
    return f"max without (instance, job) ({metric}{{{selector}}})"


def _with_bounds(metric: str, name: str) -> list[tuple[str, str]]:
    """A figure and its 95% bounds as table columns."""
    lower, upper = bounds(metric)
    return [(_column(metric), name), (_column(lower), f"{name} 95% lower"), (_column(upper), f"{name} 95% upper")]


def programmes() -> dict[str, Any]:
    """Each programme's figures for its latest quarter, as the steering group's report shows them.
    Effects are per person-month against the reference; "all" is every after-month, "quarter" this quarter's."""
    overall = f'{PROGRAMME}, period="all"'
    outcomes = f'{overall}, measure!="{COST_SEK}"'  # counts and days; the cost in SEK has a panel of its own
    cost = f'{overall}, measure="{COST_SEK}"'
    to_date = f'{PROGRAMME}, period="cumulative"'
    per = "{{programme}} {{measure}}"
    return dashboard("om-programmes", "Programmes", [
        timeseries("Enrolled and active",
                   [target(f"{M.PROGRAMME_ENROLLED}{{{PROGRAMME}}}", "{{programme}} enrolled to date", "A"),
                    target(f"{M.PROGRAMME_ACTIVE}{{{PROGRAMME}}}", "{{programme}} active in {{quarter}}", "B")],
                   description="Persons enrolled up to the quarter's end, and active in the quarter (most in any "
                               "month). A programme of 10 or fewer persons publishes no figure at all."),
        merged_table("Persons behind each effect",
                     [(_column(M.PROGRAMME_PERSONS), "enrolled"),
                      (_column(M.PROGRAMME_REFERENCE_PERSONS), "references")],
                     description="Enrolled persons with after-months in the period, and the not-enrolled "
                                 "persons of the same units they are compared with."),
        timeseries("Before and after enrolment, per person-month (all after-months)",
                   [target(f"{M.PROGRAMME_BEFORE_PER_PERSON_MONTH}{{{outcomes}}}", f"{per} before", "A"),
                    target(f"{M.PROGRAMME_AFTER_PER_PERSON_MONTH}{{{outcomes}}}", f"{per} after", "B"),
                    *with_band(M.PROGRAMME_COUNTERFACTUAL_PER_PERSON_MONTH, outcomes, f"{per} without", "CDE")],
                   band=True,
                   description="The enrolled before and after enrolment, and what they would have had without "
                               "the programme (the references' development, 95% interval). The fall after "
                               "enrolment is not all effect: trends and enrolment at a peak fall too."),
        timeseries("Effect per person-month (95% interval)",
                   with_band(M.PROGRAMME_EFFECT_PER_PERSON_MONTH, outcomes, per), band=True,
                   description="After minus without the programme, over all after-months; negative: less of "
                               "the outcome."),
        timeseries("Relative effect (95% interval)",
                   with_band(M.PROGRAMME_RELATIVE_EFFECT_RATIO, overall, per), "percentunit", band=True,
                   description="The effect relative to what the enrolled would have had without the programme "
                               "(-30%: 30% less)."),
        timeseries("Can the effect be relied on? Placebo check (95% interval)",
                   [*with_band(M.PROGRAMME_PLACEBO_RELATIVE_RATIO, PROGRAMME, "{{programme}} placebo"),
                    target(f"{M.PROGRAMME_EFFECT_RELIABLE}{{{PROGRAMME}}}", "{{programme}} reliable (1 = yes)",
                           "D")],
                   "percentunit", band=True,
                   description="The same estimator at pseudo-enrolment dates among eligible persons who were "
                               "not enrolled: its interval should hold 0. Reliable is 0 when it does not, or "
                               "when too few members have a reference; the report then shows no effect."),
        merged_table("Effects this quarter and overall, per person-month",
                     [*_with_bounds(M.PROGRAMME_EFFECT_PER_PERSON_MONTH, "effect"),
                      (_column(M.PROGRAMME_RELATIVE_EFFECT_RATIO), "relative")],
                     description='Period "all": every after-month; "quarter": the quarter\'s months only.'),
        timeseries("Cost of the outcomes per person-month, SEK (all after-months)",
                   [target(f"{M.PROGRAMME_BEFORE_PER_PERSON_MONTH}{{{cost}}}", "{{programme}} before", "A"),
                    target(f"{M.PROGRAMME_AFTER_PER_PERSON_MONTH}{{{cost}}}", "{{programme}} after", "B"),
                    *with_band(M.PROGRAMME_COUNTERFACTUAL_PER_PERSON_MONTH, cost, "{{programme}} without", "CDE")],
                   "currencySEK", band=True,
                   description="The outcomes valued with the cost table: before, after, and without the "
                               "programme (95% interval)."),
        timeseries("Avoided cost, programme cost and net to date, SEK (95% interval)",
                   [*with_band(M.PROGRAMME_AVOIDED_SEK, to_date, "{{programme}} avoided"),
                    target(f"{M.PROGRAMME_COST_SEK}{{{to_date}}}", "{{programme}} programme cost", "D"),
                    *with_band(M.PROGRAMME_NET_SEK, to_date, "{{programme}} net", "EFG")],
                   "currencySEK", band=True,
                   description="Since the programme's start: cost avoided (from the effect on the cost of the "
                               "outcomes) minus what the programme cost."),
        merged_table("Money by period, SEK (95% interval)",
                     [*_with_bounds(M.PROGRAMME_AVOIDED_SEK, "avoided"),
                      (_column(M.PROGRAMME_COST_SEK), "programme cost"),
                      *_with_bounds(M.PROGRAMME_NET_SEK, "net")],
                     "currencySEK",
                     description="The quarter, the programme to date (cumulative) and each contract year. A "
                                 "period behind 10 or fewer persons shows nothing."),
        merged_table("Effect per organisation, per person-month (95% interval)",
                     [(_column(M.PROGRAMME_ORGANISATION_MEMBERS), "members"),
                      *_with_bounds(M.PROGRAMME_ORGANISATION_EFFECT_PER_PERSON_MONTH, "effect")],
                     description="Among the members each organisation responsible enrolled (the `organisation` of "
                                 "their enrolment), over all after-months. Per person-month, so organisations of "
                                 "different sizes compare; one with 10 or fewer members shows nothing."),
    ], variables=[label_variable("programme", "Programme", M.PROGRAMME_ENROLLED)],
        description="Did the people enrolled fare better than they would have without the programme, and what "
                    "did it save? Figures about groups of more than 10 persons only.")


def all_dashboards() -> dict[str, dict[str, Any]]:
    return {f"{d['uid']}.json": d
            for d in (sick_leave(), care(), flags(), flag_handling(), pipeline(), programmes())}


def panel_queries(board: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, PromQL) for every query a board runs, annotations included."""
    out = [(p["title"], t["expr"]) for p in board["panels"] for t in p.get("targets", [])]
    out += [(f"annotation: {a['name']}", a["expr"]) for a in board["annotations"]["list"] if "expr" in a]
    return out


def rendered() -> dict[str, str]:
    return {name: json.dumps(board, indent=2, sort_keys=True) + "\n" for name, board in all_dashboards().items()}


def stale(directory: Path = DASHBOARD_DIR) -> list[str]:
    return generated.stale(rendered(), directory)


def write(directory: Path = DASHBOARD_DIR) -> list[Path]:
    return generated.write(rendered(), directory)

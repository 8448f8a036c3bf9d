"""Every Prometheus metric of the worker, in one place. Labels are bounded: type, reason, field (a field of the
contract, or "none"), rule, resolution, unit (an organisational unit, never a person); programme, quarter,
measure, period for programmes. Created per registry, never at import time."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from streams.core.handling.board import Feedback
from streams.core.org.coverage import Monitoring, UnitMonitoring
from streams.core.org.levels import RelativeLevel
from streams.core.unit.indicators import UnitIndicators
from streams.models.handling import Resolution
from streams.observe.figure_gauges import FigureGauges
from streams.observe.metric_names import MetricName


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.events_consumed = Counter(MetricName.EVENTS_CONSUMED_TOTAL,
                                       "Events accepted, by type.", ["type"], registry=r)
        self.events_rejected = Counter(MetricName.EVENTS_REJECTED_TOTAL,
                                       "Events rejected to the dead-letter topic, by reason and by the contract "
                                       'field the rejection is about (field="none": no field of the contract).',
                                       ["reason", "field"], registry=r)
        self.events_duplicate = Counter(MetricName.EVENTS_DUPLICATE_TOTAL,
                                        "Events ignored because their event_id was seen before.", registry=r)
        self.events_late = Counter(MetricName.EVENTS_LATE_TOTAL,
                                   "Events accepted more than a day after they occurred (within the "
                                   "allowed lateness).", ["type"], registry=r)
        self.processing_latency = Histogram(
            MetricName.PROCESSING_LATENCY_SECONDS,
            "From the input record's arrival in the worker to its result being sent.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30), registry=r)
        self.event_age = Histogram(
            MetricName.EVENT_AGE_SECONDS, "From occurred_at (event time) to processing, by type.", ["type"],
            buckets=(60, 600, 3600, 6 * 3600, 86400, 2 * 86400, 4 * 86400, 7 * 86400, 14 * 86400),
            registry=r)
        # By rule only: a count per unit would count people in units of any size (see flags_open).
        self.flags_raised = Counter(MetricName.FLAGS_RAISED_TOTAL, "Flags raised, by rule.",
                                    ["rule"], registry=r)
        self.flags_withdrawn = Counter(MetricName.FLAGS_WITHDRAWN_TOTAL,
                                       "Flags withdrawn, by rule and why (late_data: later events showed the "
                                       "condition did not hold; retraction; conflicting_duplicate).",
                                       ["rule", "reason"], registry=r)
        self.retractions = Counter(MetricName.RETRACTIONS_TOTAL,
                                   "Retractions accepted, by what they did (applied, event_not_seen, already_void).",
                                   ["outcome"], registry=r)
        self.consumer_lag = Gauge(MetricName.CONSUMER_LAG_MESSAGES,
                                  "Messages not yet consumed, by topic.", ["topic"], registry=r)
        self.table_entries = Gauge(MetricName.TABLE_ENTRIES, "Keys held in each state table.", ["table"],
                                   registry=r)
        self.unit_updates_duplicate = Counter(MetricName.UNIT_UPDATES_DUPLICATE_TOTAL,
                                              "Internal unit updates recognised as re-sent after a restart.",
                                              registry=r)
        self.dead_letters_lost = Counter(
            MetricName.DEAD_LETTERS_LOST_TOTAL, "Rejected records whose dead letter could not be written after "
            "bounded retries (logged with their source offset); the stage went on without it.", ["reason"],
            registry=r)
        self.partition_stalled = Gauge(
            MetricName.PARTITION_STALLED, "1 while an agent's input partition is failing (its last attempts "
            "failed in a row) or stalled (its position has not moved for stalled_after_s with records "
            "waiting): /health then says degraded; 0 otherwise.", ["stage", "partition"], registry=r)
        self.flags_open = Gauge(MetricName.FLAGS_OPEN, "Flags raised and not withdrawn, by rule and unit; "
                                "units below the minimum group size (or beyond the label limit) are "
                                'summed as unit="other".', ["rule", "unit"], registry=r)

        # How recipients handled flags, by rule and unit label (small units summed as "other").
        # Gauges, not counters: every worker holds the same global read model (all of the flags and
        # flag-actions topics), so each instance publishes the same totals and a query takes
        # `max by (rule, unit[, resolution])` across instances before summing, never `sum` over them.
        # Seconds are sums (not `_sum`, a suffix Prometheus reserves for summaries): divide by the count.
        self.flags_resolved = Gauge(MetricName.FLAGS_RESOLVED, "Flags resolved, by rule, unit and resolution.",
                                    ["rule", "unit", "resolution"], registry=r)
        self.flags_acknowledged = Gauge(MetricName.FLAGS_ACKNOWLEDGED, "Flags acknowledged, by rule and unit.",
                                        ["rule", "unit"], registry=r)
        self.flags_time_to_acknowledge = Gauge(
            MetricName.FLAGS_TIME_TO_ACKNOWLEDGE_SECONDS,
            f"Seconds from a flag first seen to its acknowledgement, summed over the flags acknowledged "
            f"(mean: divide by {MetricName.FLAGS_ACKNOWLEDGED}).", ["rule", "unit"], registry=r)
        self.flags_time_to_resolve = Gauge(
            MetricName.FLAGS_TIME_TO_RESOLVE_SECONDS,
            f"Seconds from a flag first seen to its resolution, summed over the flags resolved "
            f"(mean: divide by the sum of {MetricName.FLAGS_RESOLVED} over resolutions).", ["rule", "unit"],
            registry=r)
        self._feedback_rows: set[tuple[str, str]] = set()

        # Unit outcomes. Units with fewer than min_group_size people publish no figure.
        self.sick_leave_rate = FigureGauges(
            MetricName.UNIT_SICK_LEAVE_RATE_RATIO,
            "Sick days weighted by extent / headcount-days over the window.", ["unit", "window"], r)
        self.relative_sick_leave = FigureGauges(
            MetricName.UNIT_RELATIVE_SICK_LEAVE_RATIO,
            "New sick-leave occasions in the last complete week relative to the rest of the organisation "
            "(trend-adjusted; 1 = as the rest).", ["unit"], r)
        self.baseline_sick_leave = Gauge(MetricName.UNIT_BASELINE_SICK_LEAVE_RATIO,
                                         "The unit's usual relative level, learned.", ["unit"], registry=r)
        self.occasions_per_employee = FigureGauges(
            MetricName.UNIT_OCCASIONS_PER_EMPLOYEE,
            "Sick-leave occasions per employee over 12 months.", ["unit"], r)
        self.sick_leave_cost = Gauge(MetricName.UNIT_SICK_LEAVE_COST_SEK,
                                     "Sick-leave cost in SEK (rule of thumb), by period.", ["unit", "period"],
                                     registry=r)
        self.ed_visits = FigureGauges(MetricName.UNIT_ED_VISITS_PER_1000,
                                      "Emergency-department visits per 1000 persons over 30 days.",
                                      ["unit"], r)
        self.readmissions = FigureGauges(MetricName.UNIT_READMISSION_RATIO,
                                         "Share of discharges followed by an unplanned admission within 30 "
                                         "days (discharges with complete follow-up).", ["unit"], r)
        self.unplanned_home_care = FigureGauges(MetricName.UNIT_UNPLANNED_HOME_CARE_RATIO,
                                                "Share of home-care contacts that were unplanned, 28 days.",
                                                ["unit"], r)
        self.group_size = Gauge(MetricName.UNIT_GROUP_SIZE,
                                "People in the unit's denominator: employees (headcount) or care persons.",
                                ["unit", "kind"], registry=r)

        self.monitoring_state = Gauge(
            MetricName.UNIT_MONITORING_STATE, "1 for the unit outcome's state, 0 for the others: building_up "
            "(its look-back is not covered since the history began: its weeks are incomplete and not tested), "
            "warming_up (learning its usual level), monitored.", ["unit", "outcome", "state"], registry=r)

        self.drift_late = Gauge(MetricName.DRIFT_LATE_DAYS_TOTAL,
                                "Unit-days that arrived too late to revise drift detection.", registry=r)

        from streams.observe.programme_metrics import ProgrammeGauges  # here: it builds on FigureGauges above

        self.programmes = ProgrammeGauges(r)

    def set_unit(self, ind: UnitIndicators) -> None:
        u = ind.unit_id
        for kind, size in (("employees", ind.headcount), ("persons", ind.population)):
            if size is None:  # below the minimum group size: no series at all
                with contextlib.suppress(KeyError):
                    self.group_size.remove(u, kind)
            else:
                self.group_size.labels(u, kind).set(size)
        self.sick_leave_rate.set_figure((u, "7d"), ind.sick_leave_rate_7d)
        self.sick_leave_rate.set_figure((u, "28d"), ind.sick_leave_rate_28d)
        self.occasions_per_employee.set_figure((u,), ind.occasions_per_employee_12m)
        for period, fig in (("month_to_date", ind.sick_leave_cost_sek_month_to_date),
                            ("12m", ind.sick_leave_cost_sek_12m)):
            if fig.suppressed or fig.value is None:
                with contextlib.suppress(KeyError):
                    self.sick_leave_cost.remove(u, period)
            else:
                self.sick_leave_cost.labels(u, period).set(fig.value)
        self.ed_visits.set_figure((u,), ind.ed_visits_per_1000_30d)
        self.readmissions.set_figure((u,), ind.readmission_rate_30d)
        self.unplanned_home_care.set_figure((u,), ind.unplanned_home_care_share_28d)

    def set_feedback(self, rows: Mapping[tuple[str, str], Feedback]) -> None:
        """The whole handling feedback, (rule, unit label) -> Feedback, already merged by label
        (core.disclosure.feedback_by_label). Every resolution gets a series (0 included) so a share is
        0, not missing; a (rule, unit) pair no longer present loses all its series."""
        for rule, unit in self._feedback_rows - set(rows):
            for resolution in Resolution:
                with contextlib.suppress(KeyError):
                    self.flags_resolved.remove(rule, unit, resolution.value)
            for gauge in (self.flags_acknowledged, self.flags_time_to_acknowledge, self.flags_time_to_resolve):
                with contextlib.suppress(KeyError):
                    gauge.remove(rule, unit)
        for (rule, unit), fb in rows.items():
            for resolution in Resolution:
                self.flags_resolved.labels(rule, unit, resolution.value).set(fb.resolved.get(resolution, 0))
            self.flags_acknowledged.labels(rule, unit).set(fb.acknowledged)
            self.flags_time_to_acknowledge.labels(rule, unit).set(fb.seconds_to_acknowledge)
            self.flags_time_to_resolve.labels(rule, unit).set(fb.seconds_to_resolve)
        self._feedback_rows = set(rows)

    def set_monitoring(self, rows: list[UnitMonitoring]) -> None:
        for row in rows:
            for state in Monitoring:
                self.monitoring_state.labels(row.unit_id, row.outcome.value, state.value).set(
                    1.0 if state == row.state else 0.0)

    def set_relative(self, levels: list[RelativeLevel]) -> None:
        for level in levels:
            self.relative_sick_leave.set((level.unit_id,), level.ratio, level.low, level.high)
            if level.baseline is not None:
                self.baseline_sick_leave.labels(level.unit_id).set(level.baseline)

"""Every Prometheus metric of the worker, in one place. Labels are bounded: type, reason, rule, unit
(an organisational unit, never a person). Created per registry, never at import time."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

PREFIX = "outcome"


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.events_consumed = Counter(f"{PREFIX}_events_consumed_total",
                                       "Events accepted, by type.", ["type"], registry=r)
        self.events_rejected = Counter(f"{PREFIX}_events_rejected_total",
                                       "Events rejected to the dead-letter topic, by reason.", ["reason"],
                                       registry=r)
        self.events_duplicate = Counter(f"{PREFIX}_events_duplicate_total",
                                        "Events ignored because their event_id was seen before.", registry=r)
        self.events_late = Counter(f"{PREFIX}_events_late_total",
                                   "Events accepted more than a day after they occurred (within the "
                                   "allowed lateness).", ["type"], registry=r)
        self.processing_latency = Histogram(
            f"{PREFIX}_processing_latency_seconds",
            "From the input record's arrival in the worker to its result being sent.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30), registry=r)
        self.event_age = Histogram(
            f"{PREFIX}_event_age_seconds", "From occurred_at (event time) to processing, by type.", ["type"],
            buckets=(60, 600, 3600, 6 * 3600, 86400, 2 * 86400, 4 * 86400, 7 * 86400, 14 * 86400),
            registry=r)
        self.flags_raised = Counter(f"{PREFIX}_flags_raised_total", "Flags raised, by rule and unit.",
                                    ["rule", "unit"], registry=r)
        self.flags_withdrawn = Counter(f"{PREFIX}_flags_withdrawn_total",
                                       "Flags withdrawn because late data showed the condition did not hold.",
                                       ["rule", "unit"], registry=r)
        self.consumer_lag = Gauge(f"{PREFIX}_consumer_lag_messages",
                                  "Messages not yet consumed, by topic.", ["topic"], registry=r)
        self.table_entries = Gauge(f"{PREFIX}_table_entries", "Keys held in each state table.", ["table"],
                                   registry=r)
        self.unit_updates_duplicate = Counter(f"{PREFIX}_unit_updates_duplicate_total",
                                              "Internal unit updates recognised as re-sent after a restart.",
                                              registry=r)
        self.drift_late = Gauge(f"{PREFIX}_drift_late_days_total",
                                "Unit-days that arrived too late to revise drift detection.", registry=r)

"""Every Prometheus metric name of the worker, declared once: the metrics, the dashboards and the tests
read them from here."""

from __future__ import annotations

from enum import StrEnum

PREFIX = "outcome"


class MetricName(StrEnum):
    """Every metric name, declared once; the dashboards build their queries from these."""

    EVENTS_CONSUMED_TOTAL = f"{PREFIX}_events_consumed_total"
    EVENTS_REJECTED_TOTAL = f"{PREFIX}_events_rejected_total"
    EVENTS_DUPLICATE_TOTAL = f"{PREFIX}_events_duplicate_total"
    EVENTS_LATE_TOTAL = f"{PREFIX}_events_late_total"
    PROCESSING_LATENCY_SECONDS = f"{PREFIX}_processing_latency_seconds"
    EVENT_AGE_SECONDS = f"{PREFIX}_event_age_seconds"
    FLAGS_RAISED_TOTAL = f"{PREFIX}_flags_raised_total"
    FLAGS_WITHDRAWN_TOTAL = f"{PREFIX}_flags_withdrawn_total"
    CONSUMER_LAG_MESSAGES = f"{PREFIX}_consumer_lag_messages"
    TABLE_ENTRIES = f"{PREFIX}_table_entries"
    UNIT_UPDATES_DUPLICATE_TOTAL = f"{PREFIX}_unit_updates_duplicate_total"
    DEAD_LETTERS_LOST_TOTAL = f"{PREFIX}_dead_letters_lost_total"
    PARTITION_STALLED = f"{PREFIX}_partition_stalled"
    FLAGS_OPEN = f"{PREFIX}_flags_open"
    FLAGS_RESOLVED = f"{PREFIX}_flags_resolved"
    FLAGS_ACKNOWLEDGED = f"{PREFIX}_flags_acknowledged"
    FLAGS_TIME_TO_ACKNOWLEDGE_SECONDS = f"{PREFIX}_flags_time_to_acknowledge_seconds"
    FLAGS_TIME_TO_RESOLVE_SECONDS = f"{PREFIX}_flags_time_to_resolve_seconds"
    UNIT_SICK_LEAVE_RATE_RATIO = f"{PREFIX}_unit_sick_leave_rate_ratio"
    UNIT_RELATIVE_SICK_LEAVE_RATIO = f"{PREFIX}_unit_relative_sick_leave_ratio"
    UNIT_BASELINE_SICK_LEAVE_RATIO = f"{PREFIX}_unit_baseline_sick_leave_ratio"
    UNIT_OCCASIONS_PER_EMPLOYEE = f"{PREFIX}_unit_occasions_per_employee"
    UNIT_SICK_LEAVE_COST_SEK = f"{PREFIX}_unit_sick_leave_cost_sek"
    UNIT_ED_VISITS_PER_1000 = f"{PREFIX}_unit_ed_visits_per_1000"
    UNIT_READMISSION_RATIO = f"{PREFIX}_unit_readmission_ratio"
    UNIT_UNPLANNED_HOME_CARE_RATIO = f"{PREFIX}_unit_unplanned_home_care_ratio"
    UNIT_GROUP_SIZE = f"{PREFIX}_unit_group_size"
    UNIT_MONITORING_STATE = f"{PREFIX}_unit_monitoring_state"
    DRIFT_LATE_DAYS_TOTAL = f"{PREFIX}_drift_late_days_total"
    # Programme outcomes, per quarter (streams/observe/programme_metrics.py)
    PROGRAMME_ENROLLED = f"{PREFIX}_programme_enrolled"
    PROGRAMME_ACTIVE = f"{PREFIX}_programme_active"
    PROGRAMME_COST_SEK = f"{PREFIX}_programme_cost_sek"
    PROGRAMME_PERSONS = f"{PREFIX}_programme_persons"
    PROGRAMME_REFERENCE_PERSONS = f"{PREFIX}_programme_reference_persons"
    PROGRAMME_BEFORE_PER_PERSON_MONTH = f"{PREFIX}_programme_before_per_person_month"
    PROGRAMME_AFTER_PER_PERSON_MONTH = f"{PREFIX}_programme_after_per_person_month"
    PROGRAMME_EFFECT_PER_PERSON_MONTH = f"{PREFIX}_programme_effect_per_person_month"
    PROGRAMME_COUNTERFACTUAL_PER_PERSON_MONTH = f"{PREFIX}_programme_counterfactual_per_person_month"
    PROGRAMME_RELATIVE_EFFECT_RATIO = f"{PREFIX}_programme_relative_effect_ratio"
    PROGRAMME_AVOIDED_SEK = f"{PREFIX}_programme_avoided_sek"
    PROGRAMME_NET_SEK = f"{PREFIX}_programme_net_sek"
    PROGRAMME_ORGANISATION_MEMBERS = f"{PREFIX}_programme_organisation_members"
    PROGRAMME_EFFECT_RELIABLE = f"{PREFIX}_programme_effect_reliable"
    PROGRAMME_PLACEBO_RELATIVE_RATIO = f"{PREFIX}_programme_placebo_relative_ratio"
    PROGRAMME_ORGANISATION_EFFECT_PER_PERSON_MONTH = f"{PREFIX}_programme_organisation_effect_per_person_month"

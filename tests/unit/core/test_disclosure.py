"""Counts of people are published per unit only for groups of at least the minimum size, and only for
a bounded number of units; the rest are summed as unit "other"."""

from __future__ import annotations

from streams.core.config import MonitorConfig
from streams.core.disclosure import OTHER_UNITS, UnitLabels, UnitSize, open_flag_counts
from streams.models.vocab import Rule

CONFIG = MonitorConfig(min_group_size=11, max_unit_labels=2)


def test_flag_counts_of_small_groups_are_summed_as_other_by_the_group_the_rule_is_about() -> None:
    sizes = {"big-hr": UnitSize(employees=40, persons=0), "small-hr": UnitSize(employees=10, persons=0),
             "care": UnitSize(employees=8, persons=60)}
    flags = [(Rule.REPEATED_SICK_LEAVE, "big-hr"), (Rule.REPEATED_SICK_LEAVE, "small-hr"),
             (Rule.LONG_SICK_LEAVE, "care"),  # 8 employees: small for an employee rule
             (Rule.READMISSION_30D, "care"),  # 60 persons in care: big enough for a care rule
             (Rule.READMISSION_30D, "unknown-unit")]
    counts = open_flag_counts(flags, sizes, UnitLabels(CONFIG), CONFIG)
    assert counts == {("repeated_sick_leave", "big-hr"): 1, ("repeated_sick_leave", OTHER_UNITS): 1,
                      ("long_sick_leave", OTHER_UNITS): 1, ("readmission_30d", "care"): 1,
                      ("readmission_30d", OTHER_UNITS): 1}


def test_units_beyond_the_label_limit_are_summed_as_other() -> None:
    sizes = {u: UnitSize(50, 50) for u in ("a", "b", "c")}
    labels = UnitLabels(CONFIG)
    counts = open_flag_counts([(Rule.READMISSION_30D, u) for u in ("a", "b", "c", "c")], sizes, labels, CONFIG)
    assert counts == {("readmission_30d", "a"): 1, ("readmission_30d", "b"): 1,
                      ("readmission_30d", OTHER_UNITS): 2}
    assert labels.own("a") and not labels.own("c")

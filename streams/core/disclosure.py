"""What may be published about a unit: no figure that counts people for a group smaller than the
configured minimum (Swedish practice: no sick-leave figure for a group of 10 or fewer), and no more
units with a label of their own than the configured maximum.

Rates and intervals of a small unit are suppressed where they are computed (core/unit/indicators.py).
Counts can be summed, so counts of small units (and of units beyond the label limit) are published
together as unit "other" -- a count for the organisation's small units taken together, not for any one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from streams.core.config import MonitorConfig
from streams.models.vocab import EMPLOYEE_RULES, Rule

OTHER_UNITS = "other"


@dataclass(frozen=True, slots=True)
class UnitSize:
    employees: int  # headcount in force
    persons: int  # persons in care over the last year

    def of(self, rule: Rule) -> int:
        return self.employees if rule in EMPLOYEE_RULES else self.persons


class UnitLabels:
    """Which units have a label of their own: the first `max_unit_labels` asked for, then no more."""

    def __init__(self, config: MonitorConfig) -> None:
        self.max = config.max_unit_labels
        self.labelled: set[str] = set()

    def own(self, unit_id: str) -> bool:
        if unit_id in self.labelled:
            return True
        if len(self.labelled) < self.max:
            self.labelled.add(unit_id)
            return True
        return False


def open_flag_counts(flags: Iterable[tuple[Rule, str]], sizes: dict[str, UnitSize], labels: UnitLabels,
                     config: MonitorConfig) -> dict[tuple[str, str], int]:
    """(rule, unit label) -> open flags. A unit whose group for the rule is below the minimum, or that
    has no label of its own, counts under "other"; a unit of unknown size counts as small."""
    counts: Counter[tuple[str, str]] = Counter()
    for rule, unit_id in flags:
        size = sizes.get(unit_id)
        big = size is not None and size.of(rule) >= config.min_group_size
        label = unit_id if big and labels.own(unit_id) else OTHER_UNITS
        counts[(rule.value, label)] += 1
    return dict(counts)

"""What may be published about a unit: no figure that counts people for a group smaller than the
configured minimum (Swedish practice: no sick-leave figure for a group of 10 or fewer), and no more
units with a label of their own than the configured maximum.

Rates and intervals of a small unit are suppressed where they are computed (core/unit/indicators.py).
Counts can be summed, so counts of small units (and of units beyond the label limit) are published
together as unit "other" -- a count for the organisation's small units taken together, not for any one.
The same holds for how flags were handled: summed per label first, shares and means taken after.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from streams.core.config import MonitorConfig
from streams.core.handling.board import Feedback
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


def unit_label(rule: Rule, unit_id: str, sizes: dict[str, UnitSize], labels: UnitLabels,
               config: MonitorConfig) -> str:
    """The unit's own label, or "other" when its group for the rule is below the minimum, its size is
    unknown (counts as small) or it has no label of its own."""
    size = sizes.get(unit_id)
    big = size is not None and size.of(rule) >= config.min_group_size
    return unit_id if big and labels.own(unit_id) else OTHER_UNITS


def labeller(sizes: dict[str, UnitSize], labels: UnitLabels, config: MonitorConfig) -> Callable[[str, str], str]:
    """`unit_label` as (rule value, unit id) -> label, for `feedback_by_label`."""
    return lambda rule, unit_id: unit_label(Rule(rule), unit_id, sizes, labels, config)


def open_flag_counts(flags: Iterable[tuple[Rule, str]], sizes: dict[str, UnitSize], labels: UnitLabels,
                     config: MonitorConfig) -> dict[tuple[str, str], int]:
    """(rule, unit label) -> open flags, small units summed under "other" (`unit_label`)."""
    counts: Counter[tuple[str, str]] = Counter()
    for rule, unit_id in flags:
        counts[(rule.value, unit_label(rule, unit_id, sizes, labels, config))] += 1
    return dict(counts)


def feedback_by_label(feedback: dict[tuple[str, str], Feedback],
                      label_of: Callable[[str, str], str]) -> dict[tuple[str, str], Feedback]:
    """(rule, unit id) -> Feedback summed into (rule, unit label) -> Feedback; `label_of(rule, unit_id)`
    gives the label. Counts and seconds are summed before any share or mean is taken, so "other" holds
    the small units' flags taken together (2 false alarms of 4), never an average of their shares.
    The input is left unchanged."""
    out: dict[tuple[str, str], Feedback] = {}
    for (rule, unit_id), fb in sorted(feedback.items()):
        merged = out.setdefault((rule, label_of(rule, unit_id)), Feedback())
        for resolution, count in fb.resolved.items():
            merged.resolved[resolution] = merged.resolved.get(resolution, 0) + count
        merged.acknowledged += fb.acknowledged
        merged.seconds_to_acknowledge += fb.seconds_to_acknowledge
        merged.seconds_to_resolve += fb.seconds_to_resolve
    return out

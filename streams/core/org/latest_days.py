"""The units' latest days, counted per day and the days kept in order: the slowest unit's day among those
heard from recently (`OrgState.evaluation_day`, asked on every batch) is a bisection, not a pass over every
unit of the group, which made an event's cost grow with the group's units. Derived from `OrgState.unit_days`
and never stored: the state's serialised form is what it was."""

from __future__ import annotations

import bisect
from collections.abc import Iterable


class LatestDays:
    """A multiset of days (one per unit: its latest), with the smallest day at or after a given one."""

    __slots__ = ("_count", "_days")

    def __init__(self, days: Iterable[int] = ()) -> None:
        self._count: dict[int, int] = {}
        for day in days:
            self._count[day] = self._count.get(day, 0) + 1
        self._days = sorted(self._count)  # the distinct days, ascending

    def move(self, old: int | None, new: int) -> None:
        """A unit's latest day moves from `old` (None: a unit not counted before) to `new`."""
        if old == new:
            return
        if old is not None:
            left = self._count[old] - 1
            if left:
                self._count[old] = left
            else:
                del self._count[old]
                del self._days[bisect.bisect_left(self._days, old)]
        count = self._count.get(new, 0)
        if not count:
            bisect.insort(self._days, new)
        self._count[new] = count + 1

    def first_from(self, day: int, default: int) -> int:
        """The smallest day counted that is `day` or later; `default` when there is none."""
        i = bisect.bisect_left(self._days, day)
        return self._days[i] if i < len(self._days) else default

"""What a unit hands on of one settled day: its `DaySummary` (to its peer group's organisation stage) and
the figures of one, as a unit remembers what it sent and the organisation stage keeps its series."""

from __future__ import annotations

from dataclasses import dataclass, field

#: A unit-day's figures in DaySummary order: sick days, occasions, headcount, ED visits, readmissions (by
#: index discharge day), discharges, unplanned inpatient days (by discharge day), care population change,
#: change in the beds occupied by unplanned stays.
DayFigures = tuple[float, float, int, float, float, float, float, float, float]


@dataclass(frozen=True, slots=True)
class DaySummary:
    """What the organisation stage needs of one unit-day: for a workplace, sick days (weighted), occasions
    and the headcount; for a care unit, ED visits, readmissions (by index discharge day), discharges,
    unplanned inpatient days (by discharge day), the change in its care population and the change in
    its beds occupied by unplanned stays (admitted +1, ended -1: the running sum is its bed-days)."""

    unit_id: str
    day: int
    sick_days: float
    occasions: float
    headcount: int
    ed_visits: float = 0.0
    readmissions: float = 0.0
    discharges: float = 0.0
    inpatient_days: float = 0.0
    care_change: float = 0.0
    beds_change: float = 0.0
    # the unit's organisation: its peer group (core/org/groups.py); named, never placed
    organisation: str | None = field(default=None, kw_only=True)

    def figures(self) -> DayFigures:
        return (self.sick_days, self.occasions, self.headcount, self.ed_visits, self.readmissions,
                self.discharges, self.inpatient_days, self.care_change, self.beds_change)


def day_figures(v: list | tuple) -> DayFigures:  # type: ignore[type-arg]
    """A unit-day's `DaySummary.figures()` as stored (the unit's `sent`, the organisation's series); one
    stored before care units were monitored, or before beds were counted, has fewer than nine."""
    rest = [float(x) for x in v[3:9]] + [0.0] * (9 - max(3, len(v)))
    return (float(v[0]), float(v[1]), int(v[2]), rest[0], rest[1], rest[2], rest[3], rest[4], rest[5])

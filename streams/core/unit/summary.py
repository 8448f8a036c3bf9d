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

    def has_workplace_figures(self) -> bool:
        """Figures of a workplace: a headcount, sick days or occasions (what brings the day to the
        organisation's workplaces)."""
        return bool(self.headcount > 0 or self.sick_days or self.occasions)

    def has_care_figures(self) -> bool:
        """Figures of a care unit (what brings the day to the organisation's care units)."""
        return bool(self.ed_visits or self.readmissions or self.discharges or self.inpatient_days
                    or self.care_change or self.beds_change)


def batch_summaries(made: list[DaySummary]) -> list[DaySummary]:
    """What a batch of the worker's unit agent sends of the summaries its updates made, in order: the last of
    each unit-day to a peer group (each says the day's figures as they now are), preceded by an earlier one
    with figures of a kind the last lacks. The organisation takes a day with its kind of figures, or one it
    holds: a day made with figures and then as zero must reach it as both, or it would not hold the day (as
    zero) where replay, which sends every summary, makes it hold it."""
    last: dict[tuple[str | None, str, int], DaySummary] = {}
    before: list[DaySummary] = []
    for s in made:
        key = (s.organisation, s.unit_id, s.day)
        previous = last.get(key)
        if previous is not None and (previous.has_workplace_figures() and not s.has_workplace_figures()
                                     or previous.has_care_figures() and not s.has_care_figures()):
            before.append(previous)
        last[key] = s
    return before + list(last.values())


def day_figures(v: list | tuple) -> DayFigures:  # type: ignore[type-arg]
    """A unit-day's `DaySummary.figures()` as stored (the unit's `sent`, the organisation's series); one
    stored before care units were monitored, or before beds were counted, has fewer than nine."""
    rest = [float(x) for x in v[3:9]] + [0.0] * (9 - max(3, len(v)))
    return (float(v[0]), float(v[1]), int(v[2]), rest[0], rest[1], rest[2], rest[3], rest[4], rest[5])

"""One unit's daily figures: sums of person contributions, the headcount timeline, the population.

Sums commute, so a unit's figures depend only on which contributions arrived, not in what order. Days
that are old enough to be complete (`unit_settle_days`) are handed on as `DaySummary` for drift
detection, and handed on again if late data changes them.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from streams.core.config import MonitorConfig
from streams.core.person.fold import ContribKey
from streams.core.unit.summary import DayFigures, DaySummary, day_figures
from streams.models.vocab import UnitMetric

STATE_VERSION = 2  # 2: last_seq stored as its packed int (1: [seq, day]); a version 1 state still loads
POPULATION_WINDOW_DAYS = 365
#: Days are proleptic Gregorian ordinals (timebase.local_day): below 2**22 up to the year 9999.
DAY_BITS = 22
DAY_MASK = (1 << DAY_BITS) - 1
_DAYS, _SENT, _SEQ, _POPULATION = range(4)  # UnitState.floors


#: The unit metrics a DaySummary carries after the sick days, occasions and headcount, in its order.
CARE_SUMMARY_METRICS = (UnitMetric.ED_VISITS, UnitMetric.READMISSIONS, UnitMetric.DISCHARGES,
                        UnitMetric.UNPLANNED_INPATIENT_DAYS, UnitMetric.CARE_POPULATION_CHANGE,
                        UnitMetric.UNPLANNED_BEDS_CHANGE)
_SICK_DAYS, _OCCASIONS = UnitMetric.SICK_DAYS.value, UnitMetric.OCCASIONS.value
_ED_VISITS, _READMISSIONS, _DISCHARGES, _INPATIENT_DAYS, _CARE_CHANGE, _BEDS_CHANGE = (
    m.value for m in CARE_SUMMARY_METRICS)  # a DaySummary's figures after the headcount, in its order
#: Metrics on days ahead (a leaving of the care population a year on, the end a stay is assumed to have):
#: not today's news, so they do not move a unit's clock.
FUTURE_METRICS = frozenset({UnitMetric.CARE_POPULATION_CHANGE, UnitMetric.UNPLANNED_BEDS_CHANGE})


class UpdateOutcome(StrEnum):
    """What became of an update to a unit (a staffing report, or a person's contributions)."""

    APPLIED = "accepted"
    DUPLICATE = "duplicate"  # a staffing report seen before, or a person's update re-sent after a restart
    TOO_LATE = "too_late"  # a staffing report older than the allowed lateness


@dataclass(slots=True)
class Staffed:
    t: int
    event_id: str
    day: int
    headcount: int


@dataclass(slots=True)
class UnitState:
    unit_id: str
    clock_day: int = 0
    staffing_clock: int = 0
    days: dict[int, dict[str, float]] = field(default_factory=dict)
    staffing: list[Staffed] = field(default_factory=list)
    population: dict[str, int] = field(default_factory=dict)
    sent: dict[int, DayFigures] = field(default_factory=dict)  # DaySummary.figures() sent
    # Per person pseudonym: the sequence number of the last update applied and the unit's clock day then,
    # as one int (`seq << DAY_BITS | day`: 28-32 bytes, where a pair of ints took 84; worker memory).
    # Read and written through `applied_seq` and `mark_applied`; stored as that int, so that writing a
    # unit (every batch that touches it, in the worker) hands this dict to the encoder as it is instead
    # of building a list and two ints per person (version 1 stored [seq, day]).
    last_seq: dict[str, int] = field(default_factory=dict)
    # The organisation the unit's events first named (None: none yet): its peer group. A unit belongs to one
    # organisation; another named later is not followed (docs/limitations.md).
    organisation: str | None = None
    # Lower bounds of the keys of `days` and `sent` and of the days in `last_seq` and `population` (None:
    # not known yet, as after loading), so that forgetting what a day's advance makes too old takes the few
    # entries that expire instead of a scan of everything kept (a unit keeps `retention_days` of days).
    # Not part of the state: recomputed when needed.
    floors: list[int | None] = field(default_factory=lambda: [None, None, None, None], repr=False,
                                     compare=False)

    def to_dict(self) -> dict[str, object]:
        return {
            "version": STATE_VERSION,
            "unit_id": self.unit_id,
            "clock_day": self.clock_day,
            "staffing_clock": self.staffing_clock,
            "days": {str(d): m for d, m in self.days.items()},
            "staffing": [[s.t, s.event_id, s.day, s.headcount] for s in self.staffing],
            "population": self.population,
            "sent": {str(d): list(v) for d, v in self.sent.items()},
            "last_seq": self.last_seq,
            **({"organisation": self.organisation} if self.organisation is not None else {}),
        }

    @classmethod
    def from_dict(cls, d: dict) -> UnitState:  # type: ignore[type-arg]
        version = d.get("version")
        if version not in (1, STATE_VERSION):
            raise ValueError(f"unknown unit state version {version!r}")
        # A unit holds a few hundred to thousands of persons, each in two dicts: one key object per person
        # and one object per distinct day or last update, instead of one per entry (worker memory).
        shared: dict[object, object] = {}

        def one(value: object) -> Any:
            return shared.setdefault(value, value)

        def packed(v: Any) -> int:  # what the unit remembers of a person: version 1 stored [seq, day]
            return int(v[0]) << DAY_BITS | int(v[1]) if version == 1 else int(v)

        return cls(
            unit_id=str(d["unit_id"]),
            clock_day=one(int(d["clock_day"])),
            staffing_clock=int(d["staffing_clock"]),
            days={int(k): {str(m): float(v) for m, v in ms.items()} for k, ms in d["days"].items()},
            staffing=[Staffed(int(t), str(e), int(day), int(h)) for t, e, day, h in d["staffing"]],
            population={one(str(k)): one(int(v)) for k, v in d["population"].items()},
            sent={int(k): day_figures(v) for k, v in d["sent"].items()},
            last_seq={one(str(k)): one(packed(v)) for k, v in d["last_seq"].items()},
            organisation=str(d["organisation"]) if d.get("organisation") is not None else None,
        )  # a "default_group_through" written by 2026-12-07's releases (summaries made once a batch) is dropped

    def applied_seq(self, source: str) -> int:
        """The sequence number of the last update applied from this person (0: none remembered)."""
        return self.last_seq.get(source, 0) >> DAY_BITS

    def mark_applied(self, source: str, seq: int, day: int) -> None:
        self.last_seq[source] = seq << DAY_BITS | day
        floor = self.floors[_SEQ]
        if floor is not None and day < floor:
            self.floors[_SEQ] = day

    # -- reading ----------------------------------------------------------------------------------

    def headcount_on(self, day: int) -> int:
        """The headcount in force on `day`: the last staffing report dated on or before it (the reports are
        in time order, so in day order too; a unit keeps `retention_days` of them)."""
        i = bisect.bisect_right(self.staffing, day, key=_staffed_day)
        return self.staffing[i - 1].headcount if i else 0

    def headcounts(self, first: int, last: int) -> list[int]:
        out, i, hc = [], 0, 0
        st = self.staffing
        for day in range(first, last + 1):
            while i < len(st) and st[i].day <= day:
                hc = st[i].headcount
                i += 1
            out.append(hc)
        return out

    def total(self, metric: str, first: int, last: int) -> float:
        return sum(self.days.get(d, {}).get(metric, 0.0) for d in range(first, last + 1))

    def population_size(self) -> int:
        return sum(1 for last in self.population.values() if last > self.clock_day - POPULATION_WINDOW_DAYS)


class UnitTracker:
    """A unit's days, made into day summaries after each update, whichever stage runs it (replay, the worker's
    unit agent). A summary is made after the update that changes a day, never deferred to the end of a batch:
    the updates after the last state write are taken again after a crash, in other batches, and only the
    summaries of each update, made the same way again from the restored state, leave the organisation holding
    the day's last figures (a summary made once a batch could match the restored `sent` and be left out,
    while the organisation holds one sent after the write: tests/unit/core/unit/test_summaries_after_a_restart.py)."""

    def __init__(self, config: MonitorConfig) -> None:
        self.config = config

    def add_contributions(self, state: UnitState, deltas: list[tuple[str, int, float]]) -> list[DaySummary]:
        touched = set()
        latest = 0
        oldest = state.clock_day - self.config.retention_days
        days = state.days
        for metric, day, value in deltas:
            if day < oldest:
                continue
            bucket = days.get(day)
            if bucket is None:
                bucket = days[day] = {}
                _lowered(state, _DAYS, day)
            bucket[metric] = bucket.get(metric, 0.0) + value
            touched.add(day)
            if day > latest and metric not in FUTURE_METRICS:
                latest = day
        return self._advance(state, latest, touched)

    def add_presence(self, state: UnitState, pseudonym: str, day: int) -> list[DaySummary]:
        if state.population.get(pseudonym, -1) < day:
            state.population[pseudonym] = state.clock_day if day == state.clock_day else day  # one object
            _lowered(state, _POPULATION, day)
        if day <= state.clock_day:  # the clock stays: nothing settles (what `_advance` would find)
            return []
        return self._advance(state, day, set())

    def add_staffing(
        self, state: UnitState, t: int, event_id: str, day: int, headcount: int, arrival: int
    ) -> tuple[UpdateOutcome, list[DaySummary]]:
        if any(s.event_id == event_id for s in state.staffing):
            return UpdateOutcome.DUPLICATE, []
        clock = max(state.staffing_clock, arrival)
        if t < clock - self.config.allowed_lateness_s:
            return UpdateOutcome.TOO_LATE, []
        state.staffing_clock = clock
        keys = [(s.t, s.event_id) for s in state.staffing]
        state.staffing.insert(bisect.bisect(keys, (t, event_id)), Staffed(t, event_id, day, headcount))
        touched = set(range(day, max(day, state.clock_day) + 1))
        return UpdateOutcome.APPLIED, self._advance(state, day, touched)

    def _advance(self, state: UnitState, day: int, touched: set[int]) -> list[DaySummary]:
        settle = self.config.unit_settle_days
        old_settled = state.clock_day - settle
        advanced = day > state.clock_day
        if advanced:
            state.clock_day = day
        settled = state.clock_day - settle
        candidates = {d for d in touched if d <= settled}
        if not candidates and settled <= old_settled:  # the usual case: nothing settled, nothing old changed
            return []
        if settled > old_settled:
            first = max(old_settled + 1, settled - self.config.retention_days)
            if state.staffing:  # a workplace: every day counts, with or without absence
                candidates.update(range(max(first, state.staffing[0].day), settled + 1))
            elif settled - first < len(state.days):  # a care unit: the days something happened (its
                # population carries the days between), looked up one by one when fewer than it keeps
                candidates.update(d for d in range(first, settled + 1) if d in state.days)
            else:
                candidates.update(d for d in state.days if first <= d <= settled)
        out = self._summaries(state, sorted(candidates))
        if advanced:
            self._forget(state)
        return out

    def _summaries(self, state: UnitState, days: Iterable[int]) -> list[DaySummary]:
        """The summaries of `days` whose figures differ from what was sent (a day never sent, without a
        headcount or any care figure, is not sent); what they say is remembered as sent."""
        out, sent = [], state.sent
        for d in days:
            metrics = state.days.get(d)
            if metrics is None:
                figures: DayFigures = (0.0, 0.0, state.headcount_on(d), 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
            else:
                get = metrics.get
                figures = (round(get(_SICK_DAYS, 0.0), 6), round(get(_OCCASIONS, 0.0), 6), state.headcount_on(d),
                           round(get(_ED_VISITS, 0.0), 6), round(get(_READMISSIONS, 0.0), 6),
                           round(get(_DISCHARGES, 0.0), 6), round(get(_INPATIENT_DAYS, 0.0), 6),
                           round(get(_CARE_CHANGE, 0.0), 6), round(get(_BEDS_CHANGE, 0.0), 6))
            if d not in sent and figures[2] <= 0 and not any(figures[3:]):
                continue
            if sent.get(d) != figures:
                sent[d] = figures
                _lowered(state, _SENT, d)
                out.append(DaySummary(state.unit_id, d, *figures, organisation=state.organisation))
        return out

    def _forget(self, state: UnitState) -> None:
        """Drop what the unit's clock has left behind; each day forgotten once, not every day rescanned."""
        cutoff = state.clock_day - self.config.retention_days
        if _drop_before(state, _DAYS, state.days, cutoff):  # `sent` goes with a day of `days` only
            _drop_before(state, _SENT, state.sent, cutoff)
        staffing = state.staffing
        keep_from = 0
        for i, s in enumerate(staffing):  # in time order: the last report on or before the cutoff stays
            if s.day > cutoff:
                break
            keep_from = i
        if keep_from:
            state.staffing = staffing[keep_from:]
        # A re-sent update comes minutes after a restart, but in a backlog minutes can be months of event
        # time: remember as long as the unit keeps any day (an update older than that is dropped anyway).
        floors = state.floors
        if state.last_seq and _floor(floors, _SEQ, state.last_seq.values(), DAY_MASK) < cutoff:
            state.last_seq = {p: v for p, v in state.last_seq.items() if v & DAY_MASK >= cutoff}
            floors[_SEQ] = min((v & DAY_MASK for v in state.last_seq.values()), default=None)
        pop_cutoff = state.clock_day - POPULATION_WINDOW_DAYS
        if len(state.population) > 64 and _floor(floors, _POPULATION, state.population.values()) <= pop_cutoff:
            state.population = {p: d for p, d in state.population.items() if d > pop_cutoff}
            floors[_POPULATION] = min(state.population.values(), default=None)


def _staffed_day(s: Staffed) -> int:
    return s.day


def _lowered(state: UnitState, which: int, day: int) -> None:
    """A day was stored: the lower bound of its kind follows it down."""
    floor = state.floors[which]
    if floor is not None and day < floor:
        state.floors[which] = day


def _floor(floors: list[int | None], which: int, days: Iterable[int], mask: int = -1) -> int:
    """The least day of one kind, from its lower bound once known (a scan when it is not)."""
    floor = floors[which]
    if floor is None:
        floor = floors[which] = min((d & mask for d in days), default=1 << DAY_BITS)
    return floor


def _drop_before(state: UnitState, which: int, kept: dict[int, Any], cutoff: int) -> bool:
    """Delete the keys before `cutoff` in place (the others keep their order); whether there were any."""
    floor = _floor(state.floors, which, kept)
    if floor >= cutoff:
        return False
    if cutoff - floor <= len(kept):
        gone = [d for d in range(floor, cutoff) if d in kept]
    else:
        gone = [d for d in kept if d < cutoff]
    for d in gone:
        del kept[d]
    state.floors[which] = cutoff
    return bool(gone)


def group_by_unit(deltas: dict[ContribKey, float]) -> dict[str, list[tuple[str, int, float]]]:
    by_unit: dict[str, list[tuple[str, int, float]]] = {}
    for (metric, unit_id, day), value in deltas.items():
        by_unit.setdefault(unit_id, []).append((metric, day, value))
    return by_unit

"""One person's outcome state, folded over facts in event-time order.

`Folder.fold` (folder.py) is a pure state transition over one fact: first the *facts every rule shares* are
kept up to date (sick-leave occasions, emergency visits inside their window, stays, the units whose care
the person is in) and the fact's contributions to unit figures are recorded; then each person rule
(`rules/`, one per module) that reads the fact's kind updates its own state, kept here under its name, and
may raise a flag. Everything concluded goes into an `Emits`: flags by id, contributions by (metric, unit,
day). The tracker (`tracker.py`) replays the step over the not-yet-settled suffix whenever a late fact
arrives, so that the result depends only on the facts.

A fold is a value once made: a step is taken on a shallow copy (`PersonFold.copy`) and *replaces* each
list, dict or occasion it changes instead of changing it, so the copy shares the rest with the fold it came
from, and the tracker can keep the fold after each pending fact and start again from any of them.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from streams.core.config import MonitorConfig
from streams.core.person.facts import Fact
from streams.core.timebase import DAY_S
from streams.models.flags import Flag
from streams.models.vocab import CARE_POPULATION_DAYS, EventKind, UnitMetric

ContribKey = tuple[UnitMetric, str, int]  # (metric, unit_id, day)

MAX_STAY_DAYS = 365
#: Events that put a person in a unit's care population.
CARE_CONTACT_KINDS = frozenset({EventKind.EMERGENCY_VISIT, EventKind.ADMISSION, EventKind.DISCHARGE,
                                EventKind.HOME_CARE_CONTACT})


@dataclass(slots=True)
class Emits:
    flags: dict[str, Flag] = field(default_factory=dict)
    contrib: dict[ContribKey, float] = field(default_factory=dict)
    # A step taken again whose conclusions went out before (settling, rebuilding a fold): keep nothing.
    discard: bool = False

    def contribute(self, metric: UnitMetric, unit_id: str, day: int, value: float) -> None:
        if self.discard:
            return
        key = (metric, unit_id, day)
        self.contrib[key] = self.contrib.get(key, 0.0) + value

    def flag(self, flag: Flag) -> None:
        if not self.discard:
            self.flags[flag.flag_id] = flag


@dataclass(slots=True)
class Occasion:
    """A run of sick days; a sick day within `occasion_gap_days` of the last one continues it. Never
    changed once in a fold (folds share it): a step puts a new one in its place."""

    start_day: int
    last_day: int
    days: int
    start_event_id: str
    unit_id: str
    last_extent: float
    # The current occasion's sick days as (day, event id), up to the long-sick-leave threshold: the
    # evidence of its flag lists every one. Emptied when the next occasion starts (state stays small);
    # an occasion stored before they were kept has none.
    day_events: list[tuple[int, str]] = field(default_factory=list)

    def to_list(self) -> list[object]:
        """The last day's extent left out when it is a whole day (most are) and nothing follows it, as facts
        leave their defaults."""
        row: list[object] = [self.start_day, self.last_day, self.days, self.start_event_id, self.unit_id]
        if self.last_extent != 1.0 or self.day_events:
            row.append(self.last_extent)
        if self.day_events:
            row.append([list(x) for x in self.day_events])
        return row

    @classmethod
    def from_list(cls, row: list) -> Occasion:  # type: ignore[type-arg]
        return cls(int(row[0]), int(row[1]), int(row[2]), str(row[3]), str(row[4]),
                   float(row[5]) if len(row) > 5 else 1.0,
                   [(int(d), str(e)) for d, e in row[6]] if len(row) > 6 else [])


class RuleStateCodec(Protocol):
    """How a rule's state is written and read (`PersonRule`: the rule serialises its own state)."""

    state_version: int

    def to_dict(self, state: object) -> object: ...

    def from_dict(self, data: object, version: int) -> object: ...


@dataclass(slots=True)
class PersonFold:
    """Learned state of one person. Small: only what a window can still need."""

    occasions: list[Occasion] = field(default_factory=list)
    ed_visits: list[tuple[int, str]] = field(default_factory=list)  # (t, event_id) inside the ED window
    last_t: int = 0
    # Each rule's state, under the rule's name; a rule at its initial state has none here. States are
    # values a rule never changes in place, so a copy of the fold shares them safely.
    rules: dict[str, object] = field(default_factory=dict)
    # Episodes opened so far, per rule: a flag's id is its rule's episode number, so late data that moves
    # which event triggers an episode revises the flag instead of replacing it. {"legacy": 1}: a state
    # written before episodes were counted (ids then carry "legacy", so they never collide with a counted one).
    episodes: dict[str, int] = field(default_factory=dict)
    # Stays admitted and not yet discharged: stay_id -> (admission day, planned, admitting unit; "" in a
    # state written before the unit was kept: its beds were never counted). None: none (most people).
    stays: dict[str, tuple[int, bool, str]] | None = None
    # Per unit whose care the person is in: the last day of it (CARE_POPULATION_DAYS after the latest care
    # event there). None: in no unit's care (employees).
    in_care: dict[str, int] | None = None

    def next_episode(self, rule: str) -> str:
        """The anchor of the flag id of a new episode of `rule` (and count it, in a dict of this fold's own)."""
        counts = self.episodes
        n = counts.get(rule, 0)
        self.episodes = {**counts, rule: n + 1}
        return f"episode:{n}" if "legacy" not in counts else f"episode:legacy:{n}"

    def copy(self) -> PersonFold:
        """A fold to take a step on: it shares every list, dict and occasion with this one, which a step
        replaces rather than changes (`Folder.fold`)."""
        return PersonFold(self.occasions, self.ed_visits, self.last_t, self.rules, self.episodes, self.stays,
                          self.in_care)

    def to_dict(self, codecs: Mapping[str, RuleStateCodec]) -> dict[str, object]:
        """Only what differs from a new fold (most people have one or two events: their state is small).
        Each rule's state is written by its rule (`codecs`, by rule name), with the
        rule's state version when it is not 1."""
        d: dict[str, object] = {}
        if self.occasions:
            d["occasions"] = [o.to_list() for o in self.occasions]
        if self.ed_visits:
            d["ed_visits"] = [list(v) for v in self.ed_visits]
        if self.last_t:
            d["last_t"] = self.last_t
        if self.rules:
            d["rules"] = {name: codecs[name].to_dict(state) for name, state in self.rules.items()}
            versions = {name: codecs[name].state_version for name in self.rules if codecs[name].state_version != 1}
            if versions:  # most rules are at their first state version: not written, for small states
                d["rule_versions"] = versions
        if self.episodes:
            d["episodes"] = self.episodes
        if self.stays:
            d["stays"] = {k: list(v) for k, v in self.stays.items()}
        if self.in_care:
            d["in_care"] = self.in_care
        return d

    @classmethod
    def from_dict(cls, d: dict, codecs: Mapping[str, RuleStateCodec]) -> PersonFold:  # type: ignore[type-arg]
        """A fold `to_dict` wrote (older versions: `old_states.py`). The state of a rule no longer in
        `codecs` is dropped: nothing reads it."""
        return cls(
            [Occasion.from_list(o) for o in d.get("occasions", ())],
            [(int(t), str(e)) for t, e in d.get("ed_visits", ())],
            int(d.get("last_t", 0)),
            {name: codecs[name].from_dict(data, int(d.get("rule_versions", {}).get(name, 1)))
             for name, data in d.get("rules", {}).items() if name in codecs},
            {str(k): int(v) for k, v in d.get("episodes", {}).items()},
            {str(k): (int(v[0]), bool(v[1]), str(v[2]) if len(v) > 2 else "") for k, v in d["stays"].items()}
            if d.get("stays") else None,
            {str(k): int(v) for k, v in d["in_care"].items()} if d.get("in_care") else None,
        )

    # -- indicators -------------------------------------------------------------------------------

    def sick_leave_window(self, end_day: int, window_days: int) -> tuple[int, int, list[Occasion]]:
        """Occasions starting in (end_day - window, end_day], their calendar sick days, the occasions."""
        inside = [o for o in self.occasions if end_day - window_days < o.start_day <= end_day]
        return len(inside), sum(o.days for o in inside), inside

    def bradford_factor(self, end_day: int, window_days: int = 365) -> int:
        spells, days, _ = self.sick_leave_window(end_day, window_days)
        return spells * spells * days


class Seen(NamedTuple):
    """What keeping the facts saw of one fact: what the rules look at."""

    fact: Fact
    occasion: Occasion | None = None  # the sick-leave occasion the fact belongs to
    new_occasion: bool = False  # the fact started that occasion


class PersonFacts:
    """Keeps the facts every rule shares inside their windows and records each fact's unit contributions."""

    def __init__(self, config: MonitorConfig) -> None:
        self.config = config
        r, c = config.rules, config.cost
        self._gap = r.occasion_gap_days
        self._short_day_sek = c.monthly_salary_sek * c.short_term_day_share
        self._long_day_sek = c.monthly_salary_sek * c.long_term_day_share
        self._ed_window_s = r.frequent_emergency_window_days * DAY_S

    def keep(self, s: PersonFold, f: Fact, out: Emits) -> Seen | None:
        """Update the facts with `f`; None when `f` only repeats a sick day already counted."""
        if f.t > s.last_t:
            s.last_t = f.t
        kind = f.kind
        if kind == EventKind.SICK_LEAVE:
            return self._sick_day(s, f, out)
        if kind in CARE_CONTACT_KINDS:
            self._in_care(s, f, out)
        if kind == EventKind.HOME_CARE_CONTACT:  # the most frequent kind by far: first, and out.contribute inlined
            if not out.discard:
                contrib, unit_id, day = out.contrib, f.unit_id, f.day
                key = (UnitMetric.HOME_CARE_CONTACTS, unit_id, day)
                contrib[key] = contrib.get(key, 0.0) + 1.0
                key = (UnitMetric.HOME_CARE_MINUTES, unit_id, day)
                contrib[key] = contrib.get(key, 0.0) + f.value
                if not f.planned:
                    key = (UnitMetric.HOME_CARE_UNPLANNED, unit_id, day)
                    contrib[key] = contrib.get(key, 0.0) + 1.0
        elif kind == EventKind.EMERGENCY_VISIT:
            out.contribute(UnitMetric.ED_VISITS, f.unit_id, f.day, 1.0)
            # in time order (the fold runs in event time): the ones out of the window are at the front
            visits = s.ed_visits
            cut = bisect.bisect_right(visits, (f.t - self._ed_window_s, "\U0010ffff"))
            s.ed_visits = visits[cut:] + [(f.t, f.event_id)]  # (lists of their exact size: folds are kept)
        elif kind == EventKind.ADMISSION:
            out.contribute(UnitMetric.ADMISSIONS, f.unit_id, f.day, 1.0)
            # A stay with no discharge for a year is taken for one whose discharge was never sent. (A dict
            # of this fold's own: changed below.)
            s.stays = {k: v for k, v in (s.stays or {}).items() if v[0] > f.day - MAX_STAY_DAYS}
            again = s.stays.get(f.ref)
            if again is not None and not again[1] and again[2]:  # the stay admitted anew: one bed, not two
                out.contribute(UnitMetric.UNPLANNED_BEDS_CHANGE, again[2], again[0], -1.0)
                out.contribute(UnitMetric.UNPLANNED_BEDS_CHANGE, again[2], again[0] + MAX_STAY_DAYS, 1.0)
            s.stays[f.ref] = (f.day, f.planned, f.unit_id)
            if not f.planned:
                out.contribute(UnitMetric.UNPLANNED_ADMISSIONS, f.unit_id, f.day, 1.0)
                # A bed occupied from today; until its discharge says otherwise, for at most MAX_STAY_DAYS.
                out.contribute(UnitMetric.UNPLANNED_BEDS_CHANGE, f.unit_id, f.day, 1.0)
                out.contribute(UnitMetric.UNPLANNED_BEDS_CHANGE, f.unit_id, f.day + MAX_STAY_DAYS, -1.0)
        elif kind == EventKind.DISCHARGE:
            out.contribute(UnitMetric.DISCHARGES, f.unit_id, f.day, 1.0)
            self._stay_ended(s, f, out)
        elif kind == EventKind.ENROLLMENT and not f.value:  # a leaving is not an enrolment
            out.contribute(UnitMetric.ENROLLMENTS, f.unit_id, f.day, 1.0)
        return Seen(f)

    def _stay_ended(self, s: PersonFold, f: Fact, out: Emits) -> None:
        """A discharge ends its stay: the stay's inpatient days (discharge day - admission day, a stay
        within one day counting as one) go to the discharging unit on the discharge day. A discharge whose
        admission was never seen adds no days: they are unknown, not zero."""
        stays = s.stays or {}
        stay = stays.get(f.ref)
        if stay is not None:
            stays = {k: v for k, v in stays.items() if k != f.ref}
        s.stays = stays or None
        if stay is None:
            return
        days = float(max(1, f.day - stay[0]))
        out.contribute(UnitMetric.INPATIENT_DAYS, f.unit_id, f.day, days)
        if not stay[1]:
            out.contribute(UnitMetric.UNPLANNED_INPATIENT_DAYS, f.unit_id, f.day, days)
            # The bed is free from the discharge day (a stay within one day occupies its admission day):
            # its leaving moves from the longest stay assumed to the day the stay ended.
            free, assumed = max(f.day, stay[0] + 1), stay[0] + MAX_STAY_DAYS
            if stay[2] and free < assumed:
                out.contribute(UnitMetric.UNPLANNED_BEDS_CHANGE, stay[2], free, -1.0)
                out.contribute(UnitMetric.UNPLANNED_BEDS_CHANGE, stay[2], assumed, 1.0)

    def _in_care(self, s: PersonFold, f: Fact, out: Emits) -> None:
        """The person is in the unit's care from this event's day for CARE_POPULATION_DAYS: they enter the
        unit's care population today unless already in it, and leave it when that time has passed."""
        in_care = s.in_care
        day, unit_id = f.day, f.unit_id
        end = in_care.get(unit_id) if in_care is not None else None
        new_end = day + CARE_POPULATION_DAYS - 1
        if end is None or day > end:
            joins = day
        elif new_end > end:
            joins = end + 1  # no longer leaving then
        else:
            return
        if not out.discard:  # out.contribute, inlined: this runs for nearly every care event
            contrib = out.contrib
            key = (UnitMetric.CARE_POPULATION_CHANGE, unit_id, joins)
            contrib[key] = contrib.get(key, 0.0) + 1.0
            key = (UnitMetric.CARE_POPULATION_CHANGE, unit_id, new_end + 1)
            contrib[key] = contrib.get(key, 0.0) - 1.0
        # Units whose care the person has left are forgotten (their leaving has been counted). A new dict:
        # folds share theirs.
        if in_care is None or (end is not None and len(in_care) == 1):
            s.in_care = {unit_id: new_end}  # (the one unit is this one: kept, or left and back, the same)
        elif all(e >= day for e in in_care.values()):
            s.in_care = {**in_care, unit_id: new_end}
        else:
            kept = {u: e for u, e in in_care.items() if e >= day}
            kept[unit_id] = new_end
            s.in_care = kept

    def _day_cost(self, day_number: int, extent: float) -> float:
        short = day_number <= self.config.cost.short_term_days
        return (self._short_day_sek if short else self._long_day_sek) * extent

    def _sick_day(self, s: PersonFold, f: Fact, out: Emits) -> Seen | None:
        """The occasion a sick day changes is replaced by a new one (folds share occasions)."""
        occasions = s.occasions
        cur = occasions[-1] if occasions else None
        if cur is not None and f.day == cur.last_day:
            # A second report of the same day counts once, with the largest extent reported.
            if f.value > cur.last_extent:
                extra = f.value - cur.last_extent
                s.occasions = occasions[:-1] + [Occasion(cur.start_day, cur.last_day, cur.days, cur.start_event_id,
                                                         cur.unit_id, f.value, cur.day_events)]
                out.contribute(UnitMetric.SICK_DAYS, cur.unit_id, f.day, extra)
                out.contribute(UnitMetric.SICK_COST_SEK, cur.unit_id, f.day, self._day_cost(cur.days, extra))
            return None
        new = not (cur is not None and f.day - cur.last_day <= self._gap)
        if new:
            occ = Occasion(f.day, f.day, 1, f.event_id, f.unit_id, f.value, [(f.day, f.event_id)])
            if cur is None:
                s.occasions = [occ]
            elif cur.day_events:  # the evidence of an occasion that has ended is no longer needed
                s.occasions = occasions[:-1] + [Occasion(cur.start_day, cur.last_day, cur.days, cur.start_event_id,
                                                         cur.unit_id, cur.last_extent), occ]
            else:
                s.occasions = occasions + [occ]
            out.contribute(UnitMetric.OCCASIONS, occ.unit_id, f.day, 1.0)
        else:
            assert cur is not None
            day_events = cur.day_events
            if day_events and len(day_events) < self.config.rules.long_sick_leave_days:
                day_events = day_events + [(f.day, f.event_id)]
            occ = Occasion(cur.start_day, f.day, cur.days + 1, cur.start_event_id, cur.unit_id, f.value, day_events)
            s.occasions = occasions[:-1] + [occ]
        out.contribute(UnitMetric.SICK_DAYS, occ.unit_id, f.day, f.value)
        out.contribute(UnitMetric.SICK_COST_SEK, occ.unit_id, f.day, self._day_cost(occ.days, f.value))
        self._forget_occasions(s, f.day)
        return Seen(f, occ, new)

    def _forget_occasions(self, s: PersonFold, today: int) -> None:
        """Occasions that started before the longest window are no longer needed (the current one is)."""
        horizon = today - self.config.rules.repeated_sick_leave_window_days
        if len(s.occasions) > 1 and s.occasions[0].start_day <= horizon:
            s.occasions = [o for o in s.occasions[:-1] if o.start_day > horizon] + [s.occasions[-1]]

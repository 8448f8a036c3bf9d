"""Realistic synthetic events: units with staff and a flu season, people with repeated absence, a unit
whose sick leave drifts, elderly people in home care with ED visits and readmissions, late reports.

Deterministic for a seed. Yields (arrival epoch seconds, JSON line) in arrival order. No I/O here.
"""

from __future__ import annotations

import datetime as dt
import heapq
import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

from streams.core.timebase import zone
from streams.models.vocab import EventKind

DAY_S = 86400


@dataclass(frozen=True)
class Scenario:
    start: dt.date = dt.date(2025, 1, 1)
    days: int = 365
    seed: int = 7
    units: int = 10
    employees_per_unit: tuple[int, int] = (18, 60)
    occasion_hazard: float = 0.011  # occasions starting per employee and day, outside flu season
    flu_peak_day: int = 45  # days after start
    flu_strength: float = 1.2  # hazard x (1 + strength) at the peak, for every unit
    frequent_absentees: float = 0.03  # share of employees with 4x hazard
    drift_unit: int | None = 3  # index of the unit whose sick leave rises
    drift_onset_day: int = 200
    drift_factor: float = 1.9
    care_units: int = 4
    care_drift_unit: int | None = None  # index of the care unit whose ED visits and readmissions rise
    care_drift_onset_day: int = 300
    care_drift_factor: float = 3.0
    care_persons: int = 400
    home_care_share: float = 0.35
    late_share: float = 0.002  # reported after the allowed lateness
    duplicate_share: float = 0.003
    malformed_lines: int = 0
    # Employees who join the health-support programme (consent for their person-level flags to reach
    # an HR partner). 0 in tests' scenarios, so that their streams stay as they were recorded.
    consent_share: float = 0.0
    # Person-level clustering of absence, off by default so that existing streams stay as they
    # were: bad spells (a few months in which an employee's hazard is bad_spell_factor times higher) start
    # at bad_spell_rate per employee-year, drawn from a generator of their own per employee.
    bad_spell_rate: float = 0.0
    bad_spell_days: tuple[int, int] = (60, 120)
    bad_spell_factor: float = 5.0
    # A common trend: every employee's hazard x exp(trend_per_year x years since start).
    trend_per_year: float = 0.0
    tz: str = "Europe/Stockholm"

    def unit_ids(self) -> list[str]:
        return [f"hr-unit-{i:02d}" for i in range(self.units)]


def local_time(day: dt.date, hour: int, minute: int, tz: str) -> dt.datetime:
    """The moment `hour`:`minute` on `day` on the clock of time zone `tz`."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone(tz))


class ArrivalQueue:
    """Emitted events, numbered, in order of arrival: each reported after a random delay, a few late or twice."""

    def __init__(self, rng: random.Random, sc: Scenario) -> None:
        self.rng, self.sc = rng, sc
        self.heap: list[tuple[int, int, str]] = []
        self.seq = 0

    def emit(self, when: dt.datetime, body: dict[str, object], max_delay_days: float = 0.2) -> None:
        self.seq += 1
        body = {"event_id": f"ev-{self.sc.seed}-{self.seq:08d}", **body,
                "occurred_at": when.isoformat(timespec="seconds")}
        t = int(when.timestamp())
        r = self.rng.random()
        if r < self.sc.late_share:
            delay = self.rng.uniform(9, 20) * DAY_S
        else:
            delay = self.rng.uniform(0, max_delay_days) * DAY_S
        line = json.dumps(body, separators=(",", ":"))
        heapq.heappush(self.heap, (t + int(delay), self.seq, line))
        if self.rng.random() < self.sc.duplicate_share:
            heapq.heappush(self.heap, (t + int(delay) + self.rng.randint(60, 3 * DAY_S), self.seq, line))


def generate(sc: Scenario) -> Iterator[tuple[int, str]]:
    """All events of the scenario, in arrival order (reporting delay included)."""
    rng = random.Random(sc.seed)
    sink = ArrivalQueue(rng, sc)
    employees = _staff(sc, rng, sink)
    _care(sc, rng, sink)
    _consent(sc, sink, employees)
    for i in range(sc.malformed_lines):
        bad = ["not json at all", "[1, 2, 3]", '{"event_type": "sick_leave"}',
               '{"event_type": "teleport", "event_id": "x"}',
               json.dumps({"event_id": f"bad-{i}", "event_type": "sick_leave", "unit_id": "hr-unit-00",
                           "person_id": "198112189876", "occurred_at": "2025-03-01T08:00:00+01:00"})]
        t = int(local_time(sc.start + dt.timedelta(days=rng.randrange(sc.days)), 12, 0, sc.tz).timestamp())
        heapq.heappush(sink.heap, (t, -i - 1, bad[i % len(bad)]))
    while sink.heap:
        t, _, line = heapq.heappop(sink.heap)
        yield t, line


def _flu(sc: Scenario, day_index: int) -> float:
    # A yearly season common to all units (peaks every 365 days from flu_peak_day).
    d = (day_index - sc.flu_peak_day) % 365
    d = min(d, 365 - d)
    return 1 + sc.flu_strength * math.exp(-0.5 * (d / 18) ** 2)


def _consent(sc: Scenario, sink: ArrivalQueue, employees: list[int]) -> None:
    """Health-support enrolments of a share of the employees, on the first day; drawn from a random
    generator of their own, so the rest of the stream is the same with or without them."""
    if sc.consent_share <= 0:
        return
    rng = random.Random(sc.seed * 7919 + 1)
    for u, unit_id in enumerate(sc.unit_ids()):
        for e in range(employees[u]):
            if rng.random() < sc.consent_share:
                when = local_time(sc.start, 6, 0, sc.tz)
                line = json.dumps({"event_id": f"hs-{sc.seed}-{u:02d}-{e:04d}", "event_type": EventKind.ENROLLMENT,
                                   "unit_id": unit_id, "person_id": f"emp-{u:02d}-{e:04d}",
                                   "program": "health-support", "source": "hr-system",
                                   "occurred_at": when.isoformat(timespec="seconds")}, separators=(",", ":"))
                heapq.heappush(sink.heap, (int(when.timestamp()), -1_000_000 - u * 10_000 - e, line))


def _staff(sc: Scenario, rng: random.Random, sink: ArrivalQueue) -> list[int]:
    """Each unit's staffing and its employees' sick leave; returns the number of employees per unit."""
    employees = []
    for u, unit_id in enumerate(sc.unit_ids()):
        n = rng.randint(*sc.employees_per_unit)
        employees.append(n)
        headcount = n
        sink.emit(local_time(sc.start, 0, 0, sc.tz), {"event_type": EventKind.STAFFING, "unit_id": unit_id,
                                                       "headcount": headcount, "source": "hr-system"})
        for day_index in range(30, sc.days, 30):
            change = rng.choice([-1, 0, 0, 1])
            if change:
                headcount = max(5, headcount + change)
                sink.emit(local_time(sc.start + dt.timedelta(days=day_index), 0, 0, sc.tz),
                          {"event_type": EventKind.STAFFING, "unit_id": unit_id, "headcount": headcount,
                           "source": "hr-system"})
        for e in range(n):
            person = f"emp-{u:02d}-{e:04d}"
            risk = 4.0 if rng.random() < sc.frequent_absentees else rng.lognormvariate(0, 0.4)
            _employee(sc, rng, sink, unit_id, u, person, risk)
    return employees


def _bad_spells(sc: Scenario, person: str) -> list[tuple[int, int]]:
    """(first day, last day) of each of an employee's bad spells; none unless bad_spell_rate > 0."""
    if sc.bad_spell_rate <= 0:
        return []
    rng = random.Random(f"bad-spells:{sc.seed}:{person}")
    spells, day = [], -rng.randint(0, sc.bad_spell_days[1])  # a spell may be under way at the start
    while day < sc.days:
        day += int(rng.expovariate(sc.bad_spell_rate / 365)) + 1
        length = rng.randint(*sc.bad_spell_days)
        spells.append((day, day + length - 1))
        day += length
    return spells


def _employee(sc: Scenario, rng: random.Random, sink: ArrivalQueue, unit_id: str, u: int, person: str,
              risk: float) -> None:
    day_index = 0
    spells = _bad_spells(sc, person)
    while day_index < sc.days:
        hazard = sc.occasion_hazard * risk * _flu(sc, day_index)
        if sc.trend_per_year:
            hazard *= math.exp(sc.trend_per_year * day_index / 365)
        if spells and any(a <= day_index <= b for a, b in spells):
            hazard *= sc.bad_spell_factor
        drifting = sc.drift_unit == u and day_index >= sc.drift_onset_day
        if drifting:
            hazard *= sc.drift_factor
        if rng.random() >= hazard:
            day_index += 1
            continue
        r = rng.random()
        length = rng.randint(1, 4) if r < 0.75 else rng.randint(5, 12) if r < 0.97 else rng.randint(15, 90)
        extent = 1.0 if rng.random() < 0.9 else rng.choice([0.25, 0.5, 0.75])
        # Sick days are reported day by day, some by a manager days afterwards (within the lateness).
        lag = rng.choice([0.1, 0.1, 0.3, 1.0, 3.0, 5.5])
        for k in range(length):
            if day_index + k >= sc.days:
                break
            day = sc.start + dt.timedelta(days=day_index + k)
            sink.emit(local_time(day, 7, rng.randint(0, 59), sc.tz),
                      {"event_type": EventKind.SICK_LEAVE, "unit_id": unit_id, "person_id": person,
                       "extent": extent, "source": "hr-system"}, max_delay_days=lag)
        day_index += length + rng.randint(1, 10)


def _care(sc: Scenario, rng: random.Random, sink: ArrivalQueue) -> None:
    for p in range(sc.care_persons):
        person = f"pat-{p:05d}"
        unit_id = f"care-unit-{p % sc.care_units:02d}"
        frail = rng.random() < 0.08
        home_care = rng.random() < sc.home_care_share
        ed_rate = (6.0 if frail else 0.4) / 365
        adm_rate = (3.0 if frail else 0.25) / 365
        if rng.random() < 0.1:
            sink.emit(local_time(sc.start + dt.timedelta(days=rng.randrange(sc.days)), 10, 0, sc.tz),
                      {"event_type": EventKind.ENROLLMENT, "unit_id": unit_id, "person_id": person,
                       "program": "trygg-hemgang", "source": "care-system"})
        in_stay_until = -1
        drifting = p % sc.care_units == sc.care_drift_unit
        for day_index in range(sc.days):
            day = sc.start + dt.timedelta(days=day_index)
            rise = sc.care_drift_factor if drifting and day_index >= sc.care_drift_onset_day else 1.0
            if rng.random() < ed_rate * rise:
                sink.emit(local_time(day, rng.randint(0, 23), rng.randint(0, 59), sc.tz),
                          {"event_type": EventKind.EMERGENCY_VISIT, "unit_id": unit_id, "person_id": person,
                           "source": "region-ed"})
            if day_index > in_stay_until and rng.random() < adm_rate:
                stay = f"stay-{p}-{day_index}"
                length = rng.randint(2, 9)
                planned = rng.random() < 0.3
                sink.emit(local_time(day, 14, 0, sc.tz), {"event_type": EventKind.ADMISSION, "unit_id": unit_id,
                                                          "person_id": person, "stay_id": stay,
                                                          "planned": planned, "source": "region-pas"})
                end = day + dt.timedelta(days=length)
                sink.emit(local_time(end, 11, 0, sc.tz), {"event_type": EventKind.DISCHARGE, "unit_id": unit_id,
                                                          "person_id": person, "stay_id": stay,
                                                          "source": "region-pas"})
                in_stay_until = day_index + length
                if rng.random() < (0.25 if frail else 0.08) * rise:
                    readmit_day = day_index + length + rng.randint(3, 25)
                    if readmit_day < sc.days:
                        rday = sc.start + dt.timedelta(days=readmit_day)
                        rstay = f"stay-{p}-{readmit_day}"
                        sink.emit(local_time(rday, 16, 0, sc.tz),
                                  {"event_type": EventKind.ADMISSION, "unit_id": unit_id,
                                   "person_id": person, "stay_id": rstay, "planned": False,
                                   "source": "region-pas"})
                        rend = rday + dt.timedelta(days=rng.randint(2, 6))
                        sink.emit(local_time(rend, 11, 0, sc.tz),
                                  {"event_type": EventKind.DISCHARGE, "unit_id": unit_id,
                                   "person_id": person, "stay_id": rstay, "source": "region-pas"})
                        in_stay_until = readmit_day + 6
            if home_care and day_index > in_stay_until:
                for _ in range(rng.choice([1, 1, 2])):
                    planned = rng.random() > (0.25 if frail else 0.08)
                    sink.emit(local_time(day, rng.randint(7, 21), rng.randint(0, 59), sc.tz),
                              {"event_type": EventKind.HOME_CARE_CONTACT, "unit_id": unit_id, "person_id": person,
                               "minutes": rng.randint(10, 60), "planned": planned,
                               "source": "care-system"}, max_delay_days=1.0)

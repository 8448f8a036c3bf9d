"""The simulated workplaces of the drift and level parts: organisations of 12 units of 20, 50 or 150
staff (a flu season, a common trend, employees' bad spells), unit 0 stepped up on day 400 or high from
the first day; the unit-day series the organisation stage reads, computed from the simulated events
with the monitor's own occasion rule, and each unit's weekly occasions against the rest's rate."""

from __future__ import annotations

import datetime as dt
import json
import pickle
import statistics
from collections import defaultdict
from pathlib import Path

from benchmarks.drift.design import DAYS, ONSET_DAY, UNITS
from streams.core.timebase import week_of
from streams.core.unit.summary import DaySummary
from streams.simulators.simulation import Scenario, generate

SIZES = (20, 50, 150)
STEPS = (1.5, 2.0, 2.5)
# An employee's occasions are spaced (an occasion, then days back at work), and a step multiplies the
# hazard of a new one, so a hazard x f gives fewer than f x the occasions. These multipliers give steps of
# about 1.5x, 2x and 2.5x in a unit's occasions (measured: the table's last lines).
HAZARD = {1.5: 1.7, 2.0: 3.2, 2.5: 5.0}
# A unit high from the first day (level flags): these hazards give it 1.5x and 2x its peers' occasions
# over the two years (measured: the level table's last lines).
LEVEL_HAZARD = {1.5: 1.9, 2.0: 3.2}
GAP_DAYS = 5  # RuleConfig.occasion_gap_days: a sick day within 5 days of the last continues the occasion


def scenario(size: int, step: float | None, seed: int, onset: int = ONSET_DAY) -> Scenario:
    return Scenario(seed=seed, days=DAYS, units=UNITS, employees_per_unit=(size, size), care_persons=0,
                    drift_unit=0 if step else None, drift_onset_day=onset,
                    drift_factor=hazard(step, onset),
                    late_share=0.0, duplicate_share=0.0, bad_spell_rate=0.3, bad_spell_days=(60, 150),
                    bad_spell_factor=12.0, trend_per_year=-0.1)


def hazard(step: float | None, onset: int) -> float:
    if step is None:
        return 1.0
    return LEVEL_HAZARD[step] if onset == 0 else HAZARD[step]


def staff_mix(sc: Scenario) -> list[float]:
    """Per unit, its employees' own risk (the simulator's hazard multiplier of each, frequent absentees
    4) averaged, over the other units': what the staff alone make of the unit's level, bad spells aside.
    Read by running the simulator with its per-employee step watched."""
    from streams.simulators import simulation

    risks: dict[int, list[float]] = defaultdict(list)
    original = simulation._employee

    def watched(sc_: Scenario, rng: object, sink: object, unit_id: str, u: int, person: str,
                risk: float) -> None:
        risks[u].append(risk)
        original(sc_, rng, sink, unit_id, u, person, risk)  # type: ignore[arg-type]

    simulation._employee = watched  # type: ignore[assignment]
    try:
        for _ in generate(sc):
            pass
    finally:
        simulation._employee = original  # type: ignore[assignment]
    means = [statistics.fmean(risks[u]) for u in range(sc.units)]
    return [m / statistics.fmean(means[:u] + means[u + 1:]) for u, m in enumerate(means)]


def summaries(sc: Scenario) -> list[DaySummary]:
    """Unit-days as the unit stage sums them: sick days by extent (a day once, at its largest extent),
    new occasions by the re-illness rule, the headcount of the day."""
    sick: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
    staffing: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for _, line in generate(sc):
        e = json.loads(line)
        day = dt.date.fromisoformat(e["occurred_at"][:10]).toordinal()
        if e["event_type"] == "staffing":
            staffing[e["unit_id"]].append((day, int(e["headcount"])))
        elif e["event_type"] == "sick_leave":
            days = sick[(e["unit_id"], e["person_id"])]
            days[day] = max(days.get(day, 0.0), float(e.get("extent", 1.0)))
    first, last = sc.start.toordinal(), sc.start.toordinal() + sc.days - 1
    sick_days: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    occasions: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for (unit, _), days in sick.items():
        previous = None
        for day in sorted(days):
            sick_days[unit][day] += days[day]
            if previous is None or day - previous > GAP_DAYS:
                occasions[unit][day] += 1
            previous = day
    out = []
    for unit, changes in staffing.items():
        changes.sort()
        headcount, i = 0, 0
        for day in range(first, last + 1):
            while i < len(changes) and changes[i][0] <= day:
                headcount = changes[i][1]
                i += 1
            out.append(DaySummary(unit, day, sick_days[unit].get(day, 0.0), occasions[unit].get(day, 0.0),
                                  headcount))
    return sorted(out, key=lambda s: (s.day, s.unit_id))


def weekly(rows: list[DaySummary]) -> dict[str, list[tuple[int, float, float]]]:
    """Per unit and complete week: (week, observed occasions, expected at the rest's rate)."""
    totals: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0, 0]))
    for r in rows:
        t = totals[week_of(r.day)][r.unit_id]
        t[0] += r.occasions
        t[1] += r.headcount
        t[2] += 1
    out: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    for week in sorted(totals):
        units = {u: t for u, t in totals[week].items() if t[2] == 7}
        all_o, all_x = sum(t[0] for t in units.values()), sum(t[1] for t in units.values())
        for u, (o, x, _) in units.items():
            rest_o, rest_x = all_o - o, all_x - x
            if rest_o > 0 and rest_x > 0:
                out[u].append((week, o, x * rest_o / rest_x))
    return out


def series(size: int, step: float | None, seed: int, cache: Path | None, onset: int = ONSET_DAY
           ) -> list[DaySummary]:
    at = "" if onset == ONSET_DAY else f"-from-{onset}"
    path = cache / f"{size}-{hazard(step, onset) if step else None}-{seed}{at}.pickle" if cache else None
    if path and path.exists():
        rows: list[DaySummary] = pickle.loads(path.read_bytes())  # noqa: S301 - our own cache
        return rows
    rows = summaries(scenario(size, step, seed, onset))
    if path:
        path.write_bytes(pickle.dumps(rows))
    return rows


def mix_of(size: int, seed: int, cache: Path | None) -> list[float]:
    """staff_mix of the run without a change."""
    path = cache / f"{size}-mix-{seed}.pickle" if cache else None
    if path and path.exists():
        mix: list[float] = pickle.loads(path.read_bytes())  # noqa: S301 - our own cache
        return mix
    mix = staff_mix(scenario(size, None, seed))
    if path:
        path.write_bytes(pickle.dumps(mix))
    return mix

"""Organisations drawn at random per seed, as the field's histories come: monitoring begins with the history
(a cold start: absences and care already going on are seen for the first time), an organisation-wide winter
excess whose start, end and strength vary by year, a common trend, bad spells of persons, staff and persons
in care who come and go. Nothing here is tuned to one scenario: every mechanism is drawn per seed.

Workplaces are simulated per employee and day (vectorised): the hazard of a new occasion is the
employee's own (lognormal risk, some frequent absentees) x the winter excess x the trend x a bad spell x
the step; an occasion lasts 1-4 days mostly (a few 5-12, some 15-90) and is followed by days back at work.
The unit-days are what the unit stage would sum: sick days, new occasions by the re-illness rule (a sick
day within 5 days of the last continues an occasion; one going on when the history begins is new on its
first day), the headcount."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from benchmarks.drift.workplaces import GAP_DAYS
from streams.core.unit.summary import DaySummary

FIRST_YEAR = 2023
BURN_IN_DAYS = 120  # simulated before the history begins: what is going on when monitoring starts
BASE_HAZARD = (0.007, 0.013)  # occasions starting per employee-day, outside winter, drawn per seed


@dataclass(frozen=True, slots=True)
class World:
    """The organisation-wide mechanisms of one seed; days are indices from the history's first day."""

    start: int  # ordinal of the history's first day
    days: int
    winters: tuple[tuple[int, int, float], ...]  # (first day, end day, excess at the plateau)
    trend_per_year: float
    spell_rate: float  # bad spells per person-year
    spell_days: tuple[int, int]
    spell_factor: float

    def common(self, t: int) -> float:
        """The organisation-wide multiplier on day t: the winter excess x the trend."""
        excess = 0.0
        for first, end, strength in self.winters:
            if first <= t < end:
                excess = strength * min(1.0, (t - first + 1) / 21)  # up over three weeks, off in a week
            elif end <= t < end + 7:
                excess = strength * (1 - (t - end + 1) / 7)
        return (1 + excess) * math.exp(self.trend_per_year * t / 365)

    def winter_ends(self) -> list[int]:
        """The first days of the weeks in which the winter excess is over (the day after it ends)."""
        return [end + 7 for _, end, _ in self.winters]


def draw_world(rng: object, days_range: tuple[int, int]) -> World:
    """A history of `days_range` days beginning on a random day of the year, its winters and trend."""
    import numpy as np

    assert isinstance(rng, np.random.Generator)
    start = dt.date(FIRST_YEAR, 1, 1).toordinal() + int(rng.integers(0, 365))
    days = int(rng.integers(days_range[0], days_range[1] + 1))
    winters = []
    for year in range(FIRST_YEAR - 1, FIRST_YEAR + 5):
        first = dt.date(year, 11, 15).toordinal() + int(rng.integers(0, 40)) - start
        end = dt.date(year + 1, 2, 20).toordinal() + int(rng.integers(0, 28)) - start
        if end + 7 > -BURN_IN_DAYS and first < days:
            winters.append((first, end, float(rng.uniform(0.3, 1.0))))
    return World(start, days, tuple(winters), float(rng.uniform(-0.15, 0.0)), float(rng.uniform(0.1, 0.4)),
                 (30, int(rng.integers(60, 151))), float(rng.uniform(4.0, 12.0)))


def workplaces(rng: object, world: World, sizes: list[int], step: tuple[int, int, float] | None
               ) -> list[DaySummary]:
    """Unit-days of workplaces of `sizes` staff; `step`: (unit, first day, hazard multiplier)."""
    import numpy as np

    assert isinstance(rng, np.random.Generator)
    unit_of = np.repeat(np.arange(len(sizes)), sizes)
    n = unit_of.size
    base = float(rng.uniform(*BASE_HAZARD))
    turnover = float(rng.uniform(0.05, 0.2)) / 365

    def risk(k: int) -> np.ndarray:
        return rng.lognormal(-0.125, 0.5, k) * np.where(rng.random(k) < 0.03, 4.0, 1.0)

    own = risk(n)
    spell_end = np.full(n, -10_000)
    busy_until = np.full(n, -10_000)  # absent on days < busy_until
    free_from = np.full(n, -10_000)  # a new occasion can start from this day
    last_sick = np.full(n, -10_000)  # the last sick day seen by the monitor
    units = len(sizes)
    sick = np.zeros((units, world.days))
    occ = np.zeros((units, world.days))
    for t in range(-BURN_IN_DAYS, world.days):
        hazard = base * own * world.common(t)
        new_spell = rng.random(n) < world.spell_rate / 365
        length = rng.integers(world.spell_days[0], world.spell_days[1] + 1, n)
        spell_end = np.where(new_spell & (spell_end < t), t + length, spell_end)
        hazard = np.where(spell_end > t, hazard * world.spell_factor, hazard)
        if step is not None and t >= step[1]:
            hazard = np.where(unit_of == step[0], hazard * step[2], hazard)
        starts = (t >= free_from) & (rng.random(n) < np.minimum(hazard, 0.9))
        r = rng.random(n)
        lengths = np.where(r < 0.75, rng.integers(1, 5, n),
                           np.where(r < 0.97, rng.integers(5, 13, n), rng.integers(15, 91, n)))
        busy_until = np.where(starts, t + lengths, busy_until)
        free_from = np.where(starts, t + lengths + rng.integers(1, 11, n), free_from)
        absent = busy_until > t
        if t >= 0:
            np.add.at(sick[:, t], unit_of[absent], 1.0)
            new = absent & (t - last_sick > GAP_DAYS)
            np.add.at(occ[:, t], unit_of[new], 1.0)
            last_sick = np.where(absent, t, last_sick)
        # Someone at work leaves, and a new employee with draws of their own takes the place.
        leave = np.flatnonzero(~absent & (rng.random(n) < turnover))
        if leave.size:
            own[leave], spell_end[leave], last_sick[leave] = risk(leave.size), -10_000, -10_000
    rows = [DaySummary(f"hr-unit-{u:02d}", world.start + t, float(sick[u, t]), float(occ[u, t]), sizes[u])
            for t in range(world.days) for u in range(units)]
    return rows

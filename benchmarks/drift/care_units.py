"""The simulated care units of the care part: 12 units of 100, 250 or 600 persons, simulated directly at
person-day level (frail persons and personal risk, a winter season and a trend for all, turnover), one
outcome of unit 0 doubled on day 400 or none; summed to the unit-days the organisation stage reads, and
each unit's weekly count of an outcome against the rest's rate."""

from __future__ import annotations

import math
import pickle
from collections import defaultdict
from pathlib import Path

from benchmarks.drift.design import DAYS, ONSET_DAY, UNITS
from streams.core.timebase import week_of
from streams.core.unit.summary import DaySummary
from streams.simulators.simulation import Scenario

CARE_SIZES = (100, 250, 600)
CARE_OUTCOMES = ("ed_visits", "readmissions", "inpatient_days")
# Per person and year (non-frail, frail); a frail person's stays are longer and more often followed by a
# readmission. Person-level clustering: 10% frail, and every person's own risk (lognormal, sd 0.5).
FRAIL_SHARE = 0.10
ED_PER_YEAR = (0.4, 6.0)
ADMISSIONS_PER_YEAR = (0.2, 3.0)
PLANNED_SHARE = 0.3
STAY_DAYS = ((2, 7), (3, 14))
READMIT_P = (0.06, 0.25)  # an unplanned readmission 3-25 days after a discharge
LEAVES_PER_YEAR = (0.3, 0.8)  # a person leaves the unit's care (dies, moves) and another takes the place
CARE_SEASON = 0.4  # winter pressure: x1.4 at the peak, for everyone
CARE_TREND = 0.05  # per year, for everyone
# A doubling: what is multiplied in the stepped unit from the onset (ED visits: their rate; readmissions:
# the chance of a readmission after a discharge; inpatient days: the rate of unplanned admissions), by
# these factors, measured to give about 2x (the realised steps are printed).
CARE_STEP = {"ed_visits": 2.0, "readmissions": 2.6, "inpatient_days": 2.0}


CaseMix = dict[str, list[float]]  # outcome -> per unit, its persons' expected rate over the rest's (x1)


def care_summaries(size: int, step: str | None, seed: int, onset: int = ONSET_DAY
                   ) -> tuple[list[DaySummary], CaseMix]:
    """Unit-days of 12 care units of `size` persons each, simulated per person and day (vectorised):
    ED visits, unplanned admissions and their stays, discharges, readmissions counted on the index
    discharge's day (an unplanned admission within 30 days of it, each discharge once), unplanned
    inpatient days on the discharge day and the beds of unplanned stays (each day of a stay on its day, as
    the organisation stage counts inpatient days); the care population is the unit's persons, constant (whoever
    leaves is replaced the same day). Also each unit's case-mix: what its persons' own rates (frailty,
    risk) give over the two years against the other units' (ED visits; unplanned admissions x the mean
    stay for inpatient days): a unit with more frail persons is really above its peers."""
    import numpy as np

    rng = np.random.default_rng([seed, size, CARE_OUTCOMES.index(step) + 1 if step else 0])
    units, n = UNITS, size
    p = units * n
    unit_of = np.repeat(np.arange(units), n)
    ed_rate = np.array(ED_PER_YEAR) / 365
    adm_rate = np.array(ADMISSIONS_PER_YEAR) / 365
    readmit_p = np.array(READMIT_P)
    leave_rate = np.array(LEAVES_PER_YEAR) / 365
    stay_lo = np.array([s[0] for s in STAY_DAYS])
    stay_hi = np.array([s[1] for s in STAY_DAYS]) + 1

    def draw(k: int) -> tuple[np.ndarray, np.ndarray]:
        return (rng.random(k) < FRAIL_SHARE).astype(int), rng.lognormal(-0.125, 0.5, k)

    frail, risk = draw(p)
    stay_end = np.full(p, -1)  # the discharge day of the current or last stay
    adm_day = np.zeros(p, dtype=int)
    adm_planned = np.zeros(p, dtype=bool)
    scheduled = np.full(p, -1)  # the day of a readmission to come
    last_discharge = np.full(p, -10_000)
    counted = np.ones(p, dtype=bool)  # the last discharge has had its readmission counted
    shape = (units, DAYS)
    ed, readm, dis, ipd = (np.zeros(shape) for _ in range(4))
    beds = np.zeros((units, DAYS + int(stay_hi.max())))  # unplanned stays: +1 admitted, -1 discharged
    mean_stay = (stay_lo + stay_hi - 1) / 2
    mix = {"ed_visits": np.zeros(units), "inpatient_days": np.zeros(units)}
    for t in range(DAYS):
        np.add.at(mix["ed_visits"], unit_of, ed_rate[frail] * risk)
        np.add.at(mix["inpatient_days"], unit_of, adm_rate[frail] * risk * mean_stay[frail])
        d = (t - 45) % 365
        d = min(d, 365 - d)
        common = (1 + CARE_SEASON * math.exp(-0.5 * (d / 25) ** 2)) * math.exp(CARE_TREND * t / 365)
        mult = {o: np.ones(units) for o in CARE_OUTCOMES}
        if step and t >= onset:
            mult[step][0] = CARE_STEP[step]
        ed_today = rng.poisson(ed_rate[frail] * risk * common * mult["ed_visits"][unit_of])
        np.add.at(ed[:, t], unit_of, ed_today)
        # Discharges today: the stay's unplanned days, a readmission to come perhaps.
        out = np.flatnonzero(stay_end == t)
        if out.size:
            np.add.at(dis[:, t], unit_of[out], 1)
            unpl = out[~adm_planned[out]]
            np.add.at(ipd[:, t], unit_of[unpl], np.maximum(1, t - adm_day[unpl]))
            last_discharge[out] = t
            counted[out] = False
            chance = np.minimum(1.0, readmit_p[frail[out]] * mult["readmissions"][unit_of[out]])
            again = out[rng.random(out.size) < chance]
            scheduled[again] = t + rng.integers(3, 26, again.size)
        free = stay_end < t
        r = rng.random(p)
        rate = adm_rate[frail] * risk * common
        unplanned = free & (r < rate * (1 - PLANNED_SHARE) * mult["inpatient_days"][unit_of])
        planned = free & ~unplanned & (rng.random(p) < rate * PLANNED_SHARE)
        readmitted = free & (scheduled == t)
        scheduled[scheduled == t] = -1
        unplanned |= readmitted
        admitted = np.flatnonzero(unplanned | planned)
        if admitted.size:
            index = np.flatnonzero(unplanned & ~counted & (last_discharge >= t - 30))
            np.add.at(readm, (unit_of[index], last_discharge[index]), 1)
            counted[index] = True
            f = frail[admitted]
            length = rng.integers(stay_lo[f], stay_hi[f])
            length = np.where(readmitted[admitted], np.minimum(length, 6), length)
            stay_end[admitted] = t + length
            adm_day[admitted] = t
            adm_planned[admitted] = planned[admitted] & ~unplanned[admitted]
            occupied = admitted[~adm_planned[admitted]]
            np.add.at(beds[:, t], unit_of[occupied], 1.0)
            np.add.at(beds, (unit_of[occupied], stay_end[occupied]), -1.0)
            scheduled[admitted] = -1
        # Turnover: someone not in hospital leaves the unit's care, a new person takes the place.
        leave = np.flatnonzero((stay_end < t) & (rng.random(p) < leave_rate[frail]))
        if leave.size:
            frail[leave], risk[leave] = draw(leave.size)
            last_discharge[leave], counted[leave], scheduled[leave] = -10_000, True, -1
    first = Scenario().start.toordinal()
    rows = []
    for u in range(units):
        unit = f"care-unit-{u:02d}"
        for t in range(DAYS):
            change = float(n) if t == 0 else 0.0
            if change or ed[u, t] or readm[u, t] or dis[u, t] or ipd[u, t] or beds[u, t]:
                rows.append(DaySummary(unit, first + t, 0.0, 0.0, 0, float(ed[u, t]), float(readm[u, t]),
                                       float(dis[u, t]), float(ipd[u, t]), change, float(beds[u, t])))
    case_mix = {o: [float(m[u] / np.delete(m, u).mean()) for u in range(units)] for o, m in mix.items()}
    return sorted(rows, key=lambda s: (s.day, s.unit_id)), case_mix


CARE_FIELDS = {"ed_visits": ("ed_visits", "care_days"), "readmissions": ("readmissions", "discharges"),
               "inpatient_days": ("beds", "care_days")}


def care_series(size: int, step: str | None, seed: int, cache: Path | None
                ) -> tuple[list[DaySummary], CaseMix]:
    path = cache / f"care-{size}-{step}-{seed}.pickle" if cache else None
    if path and path.exists():
        out: tuple[list[DaySummary], CaseMix] = pickle.loads(path.read_bytes())  # noqa: S301 - our own
        return out
    out = care_summaries(size, step, seed)
    if path:
        path.write_bytes(pickle.dumps(out))
    return out


def care_weekly(rows: list[DaySummary], outcome: str) -> dict[str, list[tuple[int, float, float]]]:
    """Per care unit and complete week of the history: (week, observed, expected at the rest's rate),
    the exposure person-days in care (the running sum of the population changes) or discharges."""
    numerator, exposure = CARE_FIELDS[outcome]
    first, last = Scenario().start.toordinal(), Scenario().start.toordinal() + DAYS - 1
    by_unit: dict[str, dict[int, DaySummary]] = defaultdict(dict)
    for r in rows:
        by_unit[r.unit_id][r.day] = r
    totals: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0]))
    for unit, days in by_unit.items():
        population = beds = 0.0
        for day in range(first, last + 1):
            today = days.get(day)
            if today is not None:
                population += today.care_change
                beds += today.beds_change
            t = totals[week_of(day)][unit]
            t[0] += beds if numerator == "beds" else (getattr(today, numerator) if today is not None else 0.0)
            t[1] += population if exposure == "care_days" else (today.discharges if today is not None else 0.0)
    out: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    for week in range(week_of(first) + 1, week_of(last)):  # complete weeks only
        units = totals[week]
        all_o, all_x = sum(t[0] for t in units.values()), sum(t[1] for t in units.values())
        for u, (o, x) in units.items():
            rest_o, rest_x = all_o - o, all_x - x
            if x > 0 and rest_o > 0 and rest_x > 0:
                out[u].append((week, o, x * rest_o / rest_x))
    return out

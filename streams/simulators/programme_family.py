"""A family of programme scenarios whose mechanisms are drawn at random per seed, with the truth known.

The estimator (`core/programme/trial.py`) must hold on histories it was not built for, so nothing here is
fixed but the setting (the kind of programme and its true rate ratio): per seed are drawn the number of
units and their levels, the persons' frailty, the spells (an exacerbation, or a period of ill health, of
1-3 months during which the targeted events are 3-8 times as likely), the common trend and season, who is
eligible (the rule the programme declares), how enrolment follows (reviewed daily, weekly or monthly; the
share who accept an offer; a waiting list of up to 45 days), and the cohort's size (60-300).

Each person is simulated twice on the same random numbers, as it happened and without the programme, so
the truth of any estimate is exact for its sample: what the members had minus what they would have had,
over the same follow-up days. Simulated day by day for all persons at once (numpy), straight into the
estimator's `DayTable`: `make programme-eval` runs hundreds of seeds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from streams.core.programme.days import NEVER, DayTable
from streams.core.programme.month_totals import ADMISSIONS, ED_VISITS, INPATIENT_DAYS, SICK_DAYS, SICK_OCCASIONS
from streams.core.programme.months import month_of_day
from streams.core.programme.trial import Criterion

START = dt.date(2024, 1, 1).toordinal()
DAYS = 730
ENROL_FROM, ENROL_UNTIL = 180, 540

MEASURES = {"care": (INPATIENT_DAYS, ADMISSIONS, ED_VISITS), "hr": (SICK_DAYS, SICK_OCCASIONS)}
PRIMARY = {"care": (INPATIENT_DAYS, ED_VISITS), "hr": (SICK_DAYS, SICK_OCCASIONS)}


@dataclass(frozen=True, slots=True)
class Setting:
    kind: str  # care | hr
    rate_ratio: float  # of the targeted events after enrolment (1.0: no effect)

    @property
    def name(self) -> str:
        return f"{self.kind}, rate ratio {self.rate_ratio:g}"


@dataclass(slots=True)
class Mechanisms:
    """What was drawn for one seed (reported beside the results)."""

    units: int
    persons: int
    target: int
    spell_days: int
    spell_height: float
    trend: float
    season: float
    rule: tuple[Criterion, ...]
    review_every: int
    opt_in: float
    wait_days: int


@dataclass(slots=True)
class World:
    setting: Setting
    seed: int
    mech: Mechanisms
    factual: DayTable
    without: dict[str, np.ndarray]  # measure -> (persons, days + 1) cumulative sums without the programme


def _rule(kind: str, rng: np.random.Generator) -> tuple[Criterion, ...]:
    if kind == "care":
        days = int(rng.choice([30, 60, 90]))
        return (Criterion(ADMISSIONS, float(rng.choice([1, 2])), days),
                Criterion(INPATIENT_DAYS, float(rng.choice([7, 14])), days))
    days = int(rng.choice([60, 90]))
    return (Criterion(SICK_OCCASIONS, float(rng.choice([2, 3])), days),
            Criterion(SICK_DAYS, float(rng.choice([10, 20])), days))


def draw(setting: Setting, seed: int) -> World:
    rng = np.random.default_rng([seed, int(setting.rate_ratio * 100), setting.kind == "hr"])
    target = int(rng.integers(60, 301))
    mech = Mechanisms(
        units=int(rng.integers(2, 7)), persons=int(target * rng.uniform(6, 12)), target=target,
        spell_days=int(rng.integers(30, 91)), spell_height=float(rng.uniform(3, 8)),
        trend=float(rng.uniform(-0.3, 0.1)), season=float(rng.uniform(0, 0.4)), rule=_rule(setting.kind, rng),
        review_every=int(rng.choice([1, 7, 30])), opt_in=float(rng.uniform(0.2, 0.8)),
        wait_days=int(rng.choice([0, 14, 45])))
    p = mech.persons
    unit = rng.integers(0, mech.units, p)
    level = np.exp(rng.normal(0, 0.3, mech.units))[unit]
    shape = rng.uniform(0.6, 1.5)
    mean_per_year = 1.6 if setting.kind == "care" else 3.0
    base = rng.gamma(shape, mean_per_year / shape, p) * level / 365
    d = np.arange(DAYS)
    peak = 15 if setting.kind == "care" else 45
    common = np.exp(mech.trend * d / 365) * (1 + mech.season * np.cos(2 * np.pi * (d - peak) / 365))
    spell_rate = rng.uniform(0.3, 0.8) / 365
    measures = MEASURES[setting.kind]
    fact = {m: np.zeros((p, DAYS + 1)) for m in measures}  # cumulative, filled day by day
    cf = {m: np.zeros((p, DAYS + 1)) for m in measures}
    busy = [np.full(p, -1), np.full(p, -1)]
    spell_until = np.full(p, -1)
    enrol = np.full(p, NEVER, dtype=np.int64)
    decided = np.zeros(p, dtype=bool)  # offered in this eligibility episode, or accepted
    accepted = 0
    for day in range(DAYS):
        onset = (spell_until < day) & (rng.random(p) < spell_rate)
        spell_until[onset] = day + (mech.spell_days * rng.uniform(0.5, 1.5, int(onset.sum()))).astype(int)
        if ENROL_FROM <= day <= ENROL_UNTIL and day % mech.review_every == 0 and accepted < target:
            ok = np.zeros(p, dtype=bool)
            for c in mech.rule:
                ok |= fact[c.measure][:, day] - fact[c.measure][:, max(day - c.days, 0)] >= c.at_least
            decided &= ok | (enrol < NEVER)  # a new episode of eligibility is a new offer
            offer = ok & ~decided
            decided |= offer
            yes = np.flatnonzero(offer & (rng.random(p) < mech.opt_in))[: target - accepted]
            accepted += len(yes)
            enrol[yes] = day + rng.integers(0, mech.wait_days + 1, len(yes))
        hazard = base * common[day] * np.where(spell_until >= day, mech.spell_height, 1.0)
        u, u2 = rng.random(p), rng.random(p)
        length = rng.integers(2, 11, p) if setting.kind == "care" else _absence_length(rng, p)
        for w, out in enumerate((fact, cf)):
            treated = (enrol <= day) if w == 0 else np.zeros(p, dtype=bool)
            ratio = np.where(treated, setting.rate_ratio, 1.0)
            free = busy[w] < day
            start = free & (u < hazard * ratio)
            busy[w] = np.where(start, day + length - 1, busy[w])
            if setting.kind == "care":
                today = {INPATIENT_DAYS: (busy[w] >= day).astype(float), ADMISSIONS: start.astype(float),
                         ED_VISITS: (u2 < 0.6 * hazard * ratio).astype(float)}
            else:
                today = {measures[0]: (busy[w] >= day).astype(float), measures[1]: start.astype(float)}
            for m in measures:
                out[m][:, day + 1] = out[m][:, day] + today[m]
    end = np.full(p, START + DAYS - 1, dtype=np.int64)
    enrol = np.where(enrol < NEVER, np.minimum(enrol, DAYS - 1) + START, NEVER)
    month0 = month_of_day(START)
    months = month_of_day(START + DAYS - 1) - month0 + 1
    table = DayTable([f"p{k:05d}" for k in range(p)], measures, START, DAYS, fact, np.full(p, START - 365),
                     end, enrol, month0, np.repeat(unit[:, None], months, axis=1), [f"u{k}" for k in range(mech.units)])
    return World(setting, seed, mech, table, cf)


def _absence_length(rng: np.random.Generator, p: int) -> np.ndarray:
    """Sick-leave occasions: mostly 1-4 days, some 5-12, a few 15-90."""
    r = rng.random(p)
    return np.where(r < 0.72, rng.integers(1, 5, p), np.where(r < 0.95, rng.integers(5, 13, p),
                                                                  rng.integers(15, 91, p)))

"""False alarms and detection delay of the unit flags under person-level clustering (issue 14).

Three parts (`--parts`, all by default), each printed as a markdown table for BENCHMARKS.md:

drift: `unit_sick_leave_drift` on organisations of 12 units of 20, 50 or 150 staff over two years: a flu
season and a common downward trend for everyone, employees with bad spells (a few months with several
occasions), and in each step run one unit whose occasions step up 1.5x, 2x or 2.5x on day 400 (by hazard
multipliers that give these). False alarms are counted in the runs with no step (every drift flag is
one) per unit-year watched after the warm-up; a step is detected by the first drift flag on its unit
within 182 days of the onset, its delay counted from the onset to the flag.

level: `unit_sick_leave_level` on the same organisations: the runs with no step give the units at their
peers' level (the share ever level-flagged in two years), and runs in which unit 0 is at 1.5x or 2x its
peers from the first day give the week of its first level flag (a unit high all along has its drift
baseline learned high: only the level flag can find it). Also for a stricter or longer level test
(`level_min_ratio`, `level_weeks`), measured, not adopted.

care: ED visits, 30-day readmissions and unplanned inpatient days of 12 care units of 100, 250 or 600
persons, simulated directly at person-day level (`care_summaries`: frail persons and personal risk, a
winter season and a trend for all, turnover) and summed to the unit-days the organisation stage reads;
false drift alarms and level flags with no change, and the detection of a doubling of one outcome in
unit 0 on day 400 (a readmission known once its 30-day follow-up is complete: 5 weeks after its week).

The unit-day series the organisation stage sees (sick days, new occasions, headcount) are computed from
the simulated events with the monitor's own occasion rule, so that every detector and configuration runs
on the very same series; river's ADWIN and PageHinkley get the same weekly signal (observed vs expected
from the rest of the organisation, standardised) as the baselines a user might pick instead. They are
drift detectors only: they have no level test.
Run: python -m benchmarks.drift_eval [--seeds 20] [--parts drift level care] [--cache DIR]
(progress on stderr; --seeds 5 by default for a quick look, `make drift-eval` runs 20)
"""

from __future__ import annotations

import argparse
import math
import pickle
from collections import defaultdict
from pathlib import Path

from benchmarks.drift.cells import detected
from benchmarks.drift.design import DAYS, HORIZON_DAYS, ONSET_DAY, UNITS, WARMUP_WEEKS
from benchmarks.drift.detectors import Alarms, flags_of, level_configs, river_on
from benchmarks.drift.progress import Progress
from benchmarks.drift.sick_leave_drift import drift_part
from benchmarks.drift.sick_leave_level import LevelCounts, level_part
from benchmarks.drift.workplaces import SIZES
from streams.core.config import DriftConfig
from streams.core.timebase import week_of
from streams.core.unit.tracker import DaySummary
from streams.files.simulation import Scenario


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, default=5, help="seeds per size (the table in BENCHMARKS.md: 20)")
    ap.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    ap.add_argument("--care-sizes", type=int, nargs="*", default=list(CARE_SIZES))
    ap.add_argument("--parts", nargs="*", choices=PARTS, default=list(PARTS),
                    help="drift: the drift table; level: level flags of workplaces; care: care units")
    ap.add_argument("--cache", type=Path, default=None, help="keep the simulated series here")
    ap.add_argument("--only", default=None, help="run only the drift candidates whose name contains this")
    args = ap.parse_args(argv)
    if args.cache:
        args.cache.mkdir(parents=True, exist_ok=True)
    level = LevelCounts()
    if "drift" in args.parts:
        print(drift_part(args, level if "level" in args.parts else None))
    if "level" in args.parts:
        print()
        print(level_part(args, level))
    if "care" in args.parts:
        print()
        print(care_part(args))
    return 0


PARTS = ("drift", "level", "care")


# --- care units (issue 14, part 2) ---------------------------------------------------------------------

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
    inpatient days on the discharge day; the care population is the unit's persons, constant (whoever
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
            if change or ed[u, t] or readm[u, t] or dis[u, t] or ipd[u, t]:
                rows.append(DaySummary(unit, first + t, 0.0, 0.0, 0, float(ed[u, t]), float(readm[u, t]),
                                       float(dis[u, t]), float(ipd[u, t]), change))
    case_mix = {o: [float(m[u] / np.delete(m, u).mean()) for u in range(units)] for o, m in mix.items()}
    return sorted(rows, key=lambda s: (s.day, s.unit_id)), case_mix


READMISSION_LAG_DAYS = 7 * math.ceil(30 / 7)  # a week's readmissions are known when its follow-up is complete
CARE_RULES = {o: (f"unit_{o}_drift", f"unit_{o}_level") for o in CARE_OUTCOMES}
CARE_FIELDS = {"ed_visits": ("ed_visits", "care_days"), "readmissions": ("readmissions", "discharges"),
               "inpatient_days": ("inpatient_days", "care_days")}


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
        population = 0.0
        for day in range(first, last + 1):
            today = days.get(day)
            if today is not None:
                population += today.care_change
            t = totals[week_of(day)][unit]
            t[0] += getattr(today, numerator) if today is not None else 0.0
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


class CareCounts:
    def __init__(self) -> None:
        # Our drift detector as it stands and with a higher threshold (measured, not adopted); river's.
        self.ours = {"nb_cusum (default: h 7 for ED visits and inpatient days, 5.5 for readmissions)": DriftConfig(),
                     "nb_cusum h=5.5 for all (before 087366d)": DriftConfig(threshold=5.5, outcome_thresholds={}),
                     "nb_cusum h=6 for all": DriftConfig(threshold=6.0, outcome_thresholds={})}
        self.detectors = [*self.ours, "river ADWIN", "river PageHinkley"]
        self.configs = level_configs()
        self.unit_years: dict[tuple[int, str], float] = defaultdict(float)
        self.units: dict[int, int] = defaultdict(int)
        self.false: dict[tuple[str, int, str], int] = defaultdict(int)  # drift: (detector, size, outcome)
        # Level flags in the runs without a change, per (level test, size, outcome): flags, units flagged;
        # and among the units whose case-mix is within level_min_ratio of the rest's (where known): how
        # many, and how many flagged.
        self.level_flags: dict[tuple[str, int, str], int] = defaultdict(int)
        self.level_units: dict[tuple[str, int, str], int] = defaultdict(int)
        self.alike: dict[tuple[int, str], int] = defaultdict(int)
        self.alike_flagged: dict[tuple[str, int, str], int] = defaultdict(int)
        # (detector, size, outcome, "drift" | "either") -> delay or None per run
        self.delays: dict[tuple[str, int, str, str], list[int | None]] = defaultdict(list)
        # per run: observed and expected half a year before the onset, the same half a year after it
        self.realised: dict[tuple[int, str], list[list[float]]] = defaultdict(list)

    def add(self, size: int, step: str | None, rows: list[DaySummary], case_mix: CaseMix) -> None:
        onset = Scenario().start.toordinal() + ONSET_DAY
        target = "care-unit-00"
        default = next(iter(self.configs))
        ours = {name: flags_of(rows, config) for name, config in
                (self.configs.items() if step is None else [(default, self.configs[default])])}
        detectors = {name: ours[default] if name == "nb_cusum (default)" else flags_of(rows, config)
                     for name, config in self.ours.items()}
        lag = {o: READMISSION_LAG_DAYS if o == "readmissions" else 0 for o in CARE_OUTCOMES}
        weeks = {o: care_weekly(rows, o) for o in (CARE_OUTCOMES if step is None else (step,))}
        alarms: dict[tuple[str, str], Alarms] = {}  # (detector, outcome) -> drift alarms (day known)
        for outcome in weeks:
            for name, flags in detectors.items():
                mine: Alarms = defaultdict(list)
                for unit, rule, day in flags:
                    if rule == CARE_RULES[outcome][0]:
                        mine[unit].append(day + lag[outcome])
                alarms[(name, outcome)] = mine
            alarms[("river ADWIN", outcome)] = river_on("adwin", weeks[outcome], lag_days=lag[outcome])
            alarms[("river PageHinkley", outcome)] = river_on("page_hinkley", weeks[outcome],
                                                              lag_days=lag[outcome])
        if step is None:
            self.units[size] += UNITS
            for outcome in CARE_OUTCOMES:
                self.unit_years[(size, outcome)] += UNITS * (DAYS - WARMUP_WEEKS * 7 - lag[outcome]) / 365
                for detector in self.detectors:
                    self.false[(detector, size, outcome)] += sum(
                        len(v) for v in alarms[(detector, outcome)].values())
                mix = case_mix.get(outcome)
                alike = {f"care-unit-{u:02d}" for u in range(UNITS)
                         if mix is None or mix[u] <= DriftConfig().level_min_ratio}
                self.alike[(size, outcome)] += len(alike)
                for name, flags in ours.items():
                    level = [u for u, rule, _ in flags if rule == CARE_RULES[outcome][1]]
                    self.level_flags[(name, size, outcome)] += len(level)
                    self.level_units[(name, size, outcome)] += len(set(level))
                    self.alike_flagged[(name, size, outcome)] += len(set(level) & alike)
            return
        series_ = weeks[step][target]
        w0 = week_of(onset)
        before = [(o, e) for w, o, e in series_ if w0 - 26 <= w < w0]
        after = [(o, e) for w, o, e in series_ if w0 < w <= w0 + 26]
        # Pooled over the seeds (a small unit may have no readmission in half a year)
        self.realised[(size, step)].append([sum(x[i] for x in xs) for xs in (before, after) for i in (0, 1)])
        level_days = [d + lag[step] for u, rule, d in ours[default]
                      if u == target and rule == CARE_RULES[step][1]]
        for detector in self.detectors:
            drift_days = alarms[(detector, step)].get(target, [])
            for test, days in (("drift", drift_days), ("either", drift_days + level_days)):
                if test == "either" and detector != "nb_cusum (default)":
                    continue
                after_days = [d - onset for d in days if d >= onset]
                first = min(after_days, default=None)
                self.delays[(detector, size, step, test)].append(
                    first if first is not None and first <= HORIZON_DAYS else None)


def care_part(args: argparse.Namespace) -> str:
    counts = CareCounts()
    progress = Progress("care", len(args.care_sizes) * args.seeds * (1 + len(CARE_OUTCOMES)))
    for size in args.care_sizes:
        for seed in range(1, args.seeds + 1):
            for step in (None, *CARE_OUTCOMES):
                counts.add(size, step, *care_series(size, step, seed, args.cache))
                progress.step(f"{size} persons seed {seed} doubling {step or 'none'}")
    return care_table(counts, args.care_sizes)


def care_table(c: CareCounts, sizes: list[int]) -> str:
    default = next(iter(c.configs))
    head = ("| detector | persons in care | outcome | drift false alarms per unit-year (target <= 0.05) "
            "| level flags per unit-year, no change | units ever level-flagged, no change (target <= 5%) "
            "| doubling: drift flag within 182 days | drift delay median / p90 (days) "
            "| drift or level flag within 182 days | delay median / p90 (days) |")
    lines = [head, "|---|---|---|---|---|---|---|---|---|---|"]
    for detector in c.detectors:
        ours = detector == "nb_cusum (default)"
        others = "-" if detector in c.ours else "no level test"
        for size in sizes:
            for outcome in CARE_OUTCOMES:
                years, n = c.unit_years[(size, outcome)], c.units[size]
                fa = c.false[(detector, size, outcome)]
                row = f"| {detector} | {size} | {outcome} | {fa / years:.3f} ({fa} in {years:.0f}) |"
                if ours:
                    lv, lu = c.level_flags[(default, size, outcome)], c.level_units[(default, size, outcome)]
                    row += f" {lv / years:.3f} | {lu / n:.1%} ({lu} of {n}) |"
                else:
                    row += f" {others} | {others} |"
                row += f" {detected(c.delays[(detector, size, outcome, 'drift')])} |"
                row += (f" {detected(c.delays[(detector, size, outcome, 'either')])} |" if ours else " - | - |")
                lines.append(row)
    lines += ["", "Realised doublings (the unit's count against the rest's rate, half a year after the onset "
              "over half a year before, pooled over the seeds):"]

    def pooled(runs: list[list[float]]) -> float:
        o_b, e_b, o_a, e_a = (sum(r[i] for r in runs) for i in range(4))
        return (o_a / e_a) / (o_b / e_b)

    for size in sizes:
        lines.append(f"- {size} persons: " + ", ".join(
            f"{o} -> {pooled(c.realised[(size, o)]):.2f}x" for o in CARE_OUTCOMES))
    lines += ["", "Care units with no change, level flags by level test (case-mix: the unit's persons' own "
              "rates over two years against the other units'; not known for readmissions):", "",
              "| level test | persons in care | outcome | units ever level-flagged | units whose case-mix is "
              "within 1.25x: share, and of them ever level-flagged (target <= 5%) |", "|---|---|---|---|---|"]
    for name in c.configs:
        for size in sizes:
            for outcome in CARE_OUTCOMES:
                n, lu = c.units[size], c.level_units[(name, size, outcome)]
                alike, af = c.alike[(size, outcome)], c.alike_flagged[(name, size, outcome)]
                mix = (f"{alike / n:.0%}; {af / alike:.1%} ({af} of {alike})"
                       if outcome in ("ed_visits", "inpatient_days") else "-")
                lines.append(f"| {name} | {size} | {outcome} | {lu / n:.1%} ({lu} of {n}) | {mix} |")
    return "\n".join(lines)

if __name__ == "__main__":
    raise SystemExit(main())

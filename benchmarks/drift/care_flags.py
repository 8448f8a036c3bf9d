"""The care part: ED visits, 30-day readmissions and unplanned inpatient days of the simulated care
units; false drift alarms and level flags with no change, and the detection of a doubling of one outcome
in unit 0 on day 400 (a readmission known once its 30-day follow-up is complete: 5 weeks after its
week), for our drift detector, its level tests and river's."""

from __future__ import annotations

import argparse
import datetime as dt
import math
from collections import defaultdict

from benchmarks.drift.care_units import CARE_OUTCOMES, CaseMix, care_series, care_weekly
from benchmarks.drift.cells import detected
from benchmarks.drift.design import DAYS, HORIZON_DAYS, ONSET_DAY, UNITS, WARMUP_WEEKS
from benchmarks.drift.detectors import Alarms, flags_of, level_configs, river_on
from benchmarks.drift.progress import Progress
from streams.core.config import DriftConfig
from streams.core.timebase import week_of
from streams.core.unit.summary import DaySummary
from streams.simulators.simulation import Scenario

READMISSION_LAG_DAYS = 7 * math.ceil(30 / 7)  # a week's readmissions are known when its follow-up is complete
CARE_RULES = {o: (f"unit_{o}_drift", f"unit_{o}_level") for o in CARE_OUTCOMES}
# Our drift detector as it stands: the detector whose level test the table shows beside its drift flags
DEFAULT = "nb_cusum (default: h 7 for ED visits and inpatient days, 5.5 for readmissions)"


class CareCounts:
    def __init__(self) -> None:
        # Our drift detector as it stands and with a higher threshold (measured, not adopted); river's.
        self.ours = {DEFAULT: DriftConfig(),
                     "nb_cusum h=5.5 for all (before 087366d)": DriftConfig(threshold=5.5, outcome_thresholds={}),
                     "nb_cusum h=6 for all": DriftConfig(threshold=6.0, outcome_thresholds={})}
        self.detectors = [*self.ours, "river ADWIN", "river PageHinkley"]
        self.configs = level_configs()
        # These units' populations are whole from the first day (everyone in care is known then): their
        # history is complete from a year before, with no cold start (that is the field part's).
        complete = {"history_start": dt.date.fromordinal(Scenario().start.toordinal() - 365)}
        self.ours = {k: v.model_copy(update=complete) for k, v in self.ours.items()}
        self.configs = {k: v.model_copy(update=complete) for k, v in self.configs.items()}
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
        detectors = {name: ours[default] if name == DEFAULT else flags_of(rows, config)
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
                if test == "either" and detector != DEFAULT:
                    continue
                after_days = [d - onset for d in days if d >= onset]
                first = min(after_days, default=None)
                self.delays[(detector, size, step, test)].append(
                    first if first is not None and first <= HORIZON_DAYS else None)


def care_part(args: argparse.Namespace) -> str:
    counts = CareCounts()
    progress = Progress("care", len(args.care_sizes) * args.seeds * (1 + len(CARE_OUTCOMES)))
    for size in args.care_sizes:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
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
        ours = detector == DEFAULT
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

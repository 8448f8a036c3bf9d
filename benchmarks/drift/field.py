"""The field part: histories as they come (`field_world`, `field_care`), every mechanism drawn per seed.
Monitoring begins with the history (cold start). Workplaces: 8-14 units of 28-180 staff, unit 0 of 30-55
whose occasions step up (hazard x3.2 or x5: about 2x and 2.5x) the week the organisation's winter excess
ends (the first such week at least 14 weeks into the history and half a year before its end). Care units:
5-10 units of 150-1,300 persons, unit 0 of 600-1,300 whose ED visits or unplanned admissions double in
its first monitored year (13-39 weeks after its look-back of a year is covered). False alarms: every
unit flag (drift and level) in the runs without a change, per unit-year watched after the look-back and
the warm-up."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import statistics
from collections import defaultdict

from benchmarks.drift.cells import detected
from benchmarks.drift.design import HORIZON_DAYS, WARMUP_WEEKS
from benchmarks.drift.detectors import flags_of
from benchmarks.drift.field_care import care_units, inpatient_doubling
from benchmarks.drift.field_world import draw_world, workplaces
from benchmarks.drift.progress import Progress
from benchmarks.drift.workplaces import HAZARD
from streams.core.config import DriftConfig
from streams.core.unit.summary import DaySummary
from streams.models.vocab import UnitOutcome

CARE_WARMUP_WEEKS = DriftConfig().outcome_warmup_weeks[UnitOutcome.ED_VISITS]
# Days of history before a rule's weeks are complete, and its warm-up (weeks) after them.
WATCHED_FROM = {"unit_sick_leave": (7, WARMUP_WEEKS), "unit_readmissions": (30 + 35, CARE_WARMUP_WEEKS),
                "unit_ed_visits": (365, CARE_WARMUP_WEEKS), "unit_inpatient_days": (365, CARE_WARMUP_WEEKS)}

STEPS = {step: HAZARD[step] for step in (2.0, 2.5)}  # step in occasions -> hazard multiplier
CARE_STEPS = ("ed_visits", "inpatient_days")
NO_CHANGE = "inpatient days, no change"
CONFIGS = {"cold start (default)": DriftConfig(),
           "history taken as complete (no cold start)": DriftConfig(history_start=dt.date(2000, 1, 1))}


class FieldCounts:
    def __init__(self) -> None:
        self.false: dict[tuple[str, str, str], int] = defaultdict(int)  # (config, group, rule) -> flags
        self.years: dict[str, float] = defaultdict(float)  # rule -> unit-years watched
        self.delays: dict[tuple[str, str], list[int | None]] = defaultdict(list)  # (config, what) -> delay
        self.realised: dict[str, list[float]] = defaultdict(list)  # care outcome stepped -> per run

    def hr(self, seed: int) -> None:
        import numpy as np

        for step in (None, *STEPS):
            rng = np.random.default_rng([seed, 7])
            world = draw_world(rng, (548, 730))
            while not [e for e in world.winter_ends() if 98 <= e <= world.days - HORIZON_DAYS]:
                world = draw_world(rng, (548, 730))
            onset = next(e for e in world.winter_ends() if 98 <= e <= world.days - HORIZON_DAYS)
            k = int(rng.integers(8, 15))
            sizes = [int(rng.integers(30, 56))] + [int(rng.integers(28, 181)) for _ in range(k - 1)]
            rows = workplaces(rng, world, sizes, (0, onset, STEPS[step]) if step else None)
            self._count("hr", rows, world.start, world.days, k, step, onset)

    def care(self, seed: int) -> None:
        import numpy as np

        for step in (None, *CARE_STEPS, NO_CHANGE):
            rng = np.random.default_rng([seed, 11])
            world = draw_world(rng, (548, 800))
            onset = 365 + 7 * (CARE_WARMUP_WEEKS + 1) + int(rng.integers(0, 26 * 7))
            if step:
                world = dataclasses.replace(world, days=max(world.days, onset + HORIZON_DAYS + 14))
            k = int(rng.integers(5, 11))
            sizes = [int(rng.integers(600, 1301))] + [int(rng.integers(150, 1301)) for _ in range(k - 1)]
            # How the doubling is made, from a generator of its own: the runs share the history to the onset.
            doubling = inpatient_doubling(np.random.default_rng([seed, 13]))
            rows = care_units(rng, world, sizes, (0, onset, step) if step in CARE_STEPS else None, doubling)
            if step == NO_CHANGE:  # the doublings' histories with nothing changed: what chance makes of them
                self.realised[step].append(realised(rows, "inpatient_days", world.start + onset))
                continue
            if step:
                self.realised[step].append(realised(rows, step, world.start + onset))
            self._count("care", rows, world.start, world.days, k, step, onset)

    def _count(self, group: str, rows: list, start: int, days: int, units: int,  # type: ignore[type-arg]
               step: object, onset: int) -> None:
        target = "hr-unit-00" if group == "hr" else "care-unit-00"
        if step is None:
            for prefix, (look, warmup) in WATCHED_FROM.items():
                if (group == "hr") == (prefix == "unit_sick_leave"):
                    for kind in ("drift", "level"):
                        self.years[f"{prefix}_{kind}"] += units * max(0, days - look - 7 * (warmup + 1)) / 365
        for name, config in CONFIGS.items():
            flags = flags_of(rows, config)
            if step is None:
                for _, rule, _ in flags:
                    self.false[(name, group, rule)] += 1
                continue
            rule = "unit_sick_leave_drift" if group == "hr" else f"unit_{step}_drift"
            after = [d - start - onset for u, r, d in flags if u == target and r == rule and d >= start + onset]
            self.delays[(name, f"{group} {step}")].append(
                min(after) if after and min(after) <= HORIZON_DAYS else None)


def field_part(args: argparse.Namespace) -> str:
    counts = FieldCounts()
    progress = Progress("field", 2 * args.seeds)
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        counts.hr(seed)
        progress.step(f"workplaces seed {seed}")
        counts.care(seed)
        progress.step(f"care units seed {seed}")
    return field_table(counts)


def field_table(c: FieldCounts) -> str:
    rules = sorted({rule for _, _, rule in c.false} | set(c.years))
    head = "| configuration | " + " | ".join(f"{r}: false alarms per unit-year (target <= 0.05)" for r in rules)
    head += (" | workplace 2x at winter's end: found / median / p90 (days) | 2.5x | care ED visits 2x "
             "| care inpatient days 2x |")
    lines = [head, "|" + "---|" * (len(rules) + 5)]
    for name in CONFIGS:
        cells = []
        for rule in rules:
            group = "hr" if "sick_leave" in rule else "care"
            fa, years = c.false[(name, group, rule)], c.years[rule]
            cells.append(f"{fa / years:.3f} ({fa} in {years:.0f})" if years else "-")
        for what in ("hr 2.0", "hr 2.5", "care ed_visits", "care inpatient_days"):
            cells.append(detected(c.delays[(name, what)]).replace(" | ", " / "))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "Realised care doublings (unit 0's count against the rest's rate, half a year after the onset "
              "over half a year before; median and range over the seeds): " + ", ".join(
                  f"{o} {statistics.median(r):.2f}x ({min(r):.2f}-{max(r):.2f})"
                  for o, r in sorted(c.realised.items()))]
    return "\n".join(lines)


def realised(rows: list[DaySummary], step: str, onset: int) -> float:
    """Unit 0's count of the stepped outcome (ED visits; unplanned bed-days: its running sum of beds) per
    person-day in its care against the rest's, in the half-year after `onset` over the half-year before."""
    by_unit: dict[str, list[DaySummary]] = defaultdict(list)
    for r in rows:
        by_unit[r.unit_id].append(r)
    sums = {}  # unit -> (count before, exposure before, count after, exposure after)
    for unit, days in by_unit.items():
        persons = beds = 0.0
        acc = [0.0] * 4
        at = {r.day: r for r in days}
        for day in range(min(at), onset + HORIZON_DAYS):
            r = at.get(day)
            if r is not None:
                persons, beds = persons + r.care_change, beds + r.beds_change
            if day < onset - HORIZON_DAYS:
                continue
            count = (r.ed_visits if r is not None else 0.0) if step == "ed_visits" else beds
            half = 0 if day < onset else 2
            acc[half] += count
            acc[half + 1] += persons
        sums[unit] = acc
    rate = []
    for half in (0, 2):
        o, x = sums["care-unit-00"][half], sums["care-unit-00"][half + 1]
        rest_o = sum(v[half] for u, v in sums.items() if u != "care-unit-00")
        rest_x = sum(v[half + 1] for u, v in sums.items() if u != "care-unit-00")
        rate.append(o / (x * rest_o / rest_x))
    return rate[1] / rate[0]

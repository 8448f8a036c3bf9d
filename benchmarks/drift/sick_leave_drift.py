"""The drift part: `unit_sick_leave_drift` and the other drift candidates on the simulated workplaces.
False alarms are counted in the runs with no step (every drift flag is one) per unit-year watched after
the warm-up; a step of 1.5x, 2x or 2.5x in unit 0 on day 400 is detected by the first drift flag on its
unit within 182 days of the onset, its delay counted from the onset to the flag."""

from __future__ import annotations

import argparse
import statistics
from collections import defaultdict
from collections.abc import Mapping

from benchmarks.drift.cells import detected
from benchmarks.drift.design import DAYS, HORIZON_DAYS, ONSET_DAY, UNITS
from benchmarks.drift.detectors import candidates
from benchmarks.drift.progress import Progress
from benchmarks.drift.sick_leave_level import LevelCounts
from benchmarks.drift.workplaces import STEPS, mix_of, series, weekly
from streams.core.timebase import week_of
from streams.core.unit.summary import DaySummary
from streams.simulators.simulation import Scenario


def drift_part(args: argparse.Namespace, level: LevelCounts | None) -> str:
    """The drift table; the runs without a change also give the level part its units at their peers'
    level (when `level` is given)."""
    runs = {k: v for k, v in candidates().items() if args.only is None or args.only in k}
    false_alarms: dict[tuple[str, int], int] = defaultdict(int)
    unit_years: dict[int, float] = defaultdict(float)
    delays: dict[tuple[str, int, float], list[int | None]] = defaultdict(list)
    realised: dict[tuple[int, float], list[float]] = defaultdict(list)
    progress = Progress("drift", len(args.sizes) * args.seeds * (1 + len(STEPS)))
    onset = Scenario().start.toordinal() + ONSET_DAY
    for size in args.sizes:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            for step in (None, *STEPS):
                rows = series(size, step, seed, args.cache)
                target = "hr-unit-00"
                if step:
                    realised[(size, step)].append(realised_ratio(rows, target, onset))
                for name, run in runs.items():
                    alarms = run(rows)
                    if step is None:
                        false_alarms[(name, size)] += sum(len(v) for v in alarms.values())
                    else:
                        after = [d - onset for d in alarms.get(target, []) if d >= onset]
                        delays[(name, size, step)].append(min(after) if after and min(after) <= HORIZON_DAYS
                                                          else None)
                if step is None:
                    unit_years[size] += UNITS * (DAYS - 12 * 7) / 365
                    if level is not None:
                        level.add_peers(size, rows, mix_of(size, seed, args.cache))
                progress.step(f"size {size} seed {seed} step {step or 'none'}")
    lines = [table(runs, args.sizes, false_alarms, unit_years, delays), "",
             "Realised steps (median over seeds of the unit's occasions against the rest's, half a year after "
             "the onset over half a year before):"]
    for size in args.sizes:
        lines.append(f"- {size} staff: " + ", ".join(
            f"{step:g}x -> {statistics.median(realised[(size, step)]):.2f}x" for step in STEPS))
    return "\n".join(lines)


def realised_ratio(rows: list[DaySummary], unit: str, onset: int) -> float:
    weeks = weekly(rows)[unit]
    w0 = week_of(onset)
    before = [(o, e) for w, o, e in weeks if w0 - 26 <= w < w0]
    after = [(o, e) for w, o, e in weeks if w0 < w <= w0 + 26]
    ratio = [sum(o for o, _ in xs) / sum(e for _, e in xs) for xs in (before, after)]
    return ratio[1] / ratio[0]


def table(runs: Mapping[str, object], sizes: list[int], false_alarms: dict[tuple[str, int], int],
          unit_years: dict[int, float], delays: dict[tuple[str, int, float], list[int | None]]) -> str:
    head = "| detector | staff | false alarms per unit-year (target <= 0.05) |"
    rule = "|---|---|---|"
    for step in STEPS:
        head += f" {step:g}x detected | {step:g}x delay median / p90 (days) |"
        rule += "---|---|"
    lines = [head, rule]
    for name in runs:
        for size in sizes:
            fa = false_alarms[(name, size)]
            row = f"| {name} | {size} | {fa / unit_years[size]:.3f} ({fa} in {unit_years[size]:.0f}) |"
            for step in STEPS:
                row += f" {detected(delays[(name, size, step)])} |"
            lines.append(row)
    return "\n".join(lines)

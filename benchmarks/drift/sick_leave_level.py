"""The level part: `unit_sick_leave_level` on the simulated workplaces. The runs with no step give the
units at their peers' level (the share ever level-flagged in two years); runs in which unit 0 is at 1.5x
or 2x its peers from the first day give the week of its first level flag (a unit high all along has its
drift baseline learned high: only the level flag can find it). Also for a stricter or longer level test,
measured, not adopted."""

from __future__ import annotations

import argparse
import statistics
from collections import defaultdict

from benchmarks.drift.cells import detected
from benchmarks.drift.design import DAYS, UNITS, WARMUP_WEEKS
from benchmarks.drift.detectors import flags_of, level_configs
from benchmarks.drift.progress import Progress
from benchmarks.drift.workplaces import mix_of, series, weekly
from streams.core.config import DriftConfig
from streams.core.timebase import week_of
from streams.core.unit.summary import DaySummary
from streams.models.vocab import Rule

LEVELS = (1.5, 2.0)  # a unit at this many times its peers' occasions from the first day (hazard: HAZARD)
QUARTER_WEEKS = 13


class LevelCounts:
    """Per level configuration and size: units at their peers' level ever level-flagged (and their
    flags), and the weeks to the first level flag of each unit at 1.5x or 2x."""

    def __init__(self) -> None:
        self.configs = level_configs()
        self.peer_units: dict[int, int] = defaultdict(int)
        self.peer_flagged: dict[tuple[str, int], int] = defaultdict(int)
        self.peer_flags: dict[tuple[str, int], int] = defaultdict(int)
        # the units whose staff's own risk (staff_mix) is within level_min_ratio of the rest's, and of them
        # the ones ever level-flagged
        self.alike: dict[int, int] = defaultdict(int)
        self.alike_flagged: dict[tuple[str, int], int] = defaultdict(int)
        self.weeks: dict[tuple[str, int, float], list[float | None]] = defaultdict(list)
        self.realised: dict[tuple[int, float], list[float]] = defaultdict(list)

    def add_peers(self, size: int, rows: list[DaySummary], mix: list[float]) -> None:
        self.peer_units[size] += UNITS
        alike = {f"hr-unit-{u:02d}" for u, m in enumerate(mix) if m <= DriftConfig().level_min_ratio}
        self.alike[size] += len(alike)
        for name, config in self.configs.items():
            flagged = [u for u, rule, _ in flags_of(rows, config) if rule == Rule.UNIT_SICK_LEAVE_LEVEL]
            self.peer_flags[(name, size)] += len(flagged)
            self.peer_flagged[(name, size)] += len(set(flagged))
            self.alike_flagged[(name, size)] += len(set(flagged) & alike)

    def add_high(self, size: int, level: float, rows: list[DaySummary]) -> None:
        first_week = week_of(min(r.day for r in rows))
        target = "hr-unit-00"
        weeks = weekly(rows)[target]
        self.realised[(size, level)].append(sum(o for _, o, _ in weeks) / sum(e for _, _, e in weeks))
        for name, config in self.configs.items():
            days = [d for u, rule, d in flags_of(rows, config)
                    if u == target and rule == Rule.UNIT_SICK_LEAVE_LEVEL]
            # Weeks of history when the flag is raised: the flag is for week k (1 = the first week) and
            # comes at its end.
            self.weeks[(name, size, level)].append(week_of(min(days) - 1) - first_week + 1 if days else None)


def level_part(args: argparse.Namespace, level: LevelCounts) -> str:
    if not level.peer_units:  # the drift part did not run: the runs without a change, here
        progress = Progress("level (no change)", len(args.sizes) * args.seeds)
        for size in args.sizes:
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                level.add_peers(size, series(size, None, seed, args.cache), mix_of(size, seed, args.cache))
                progress.step(f"size {size} seed {seed}")
    progress = Progress("level", len(args.sizes) * args.seeds * len(LEVELS))
    for size in args.sizes:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            for high in LEVELS:
                level.add_high(size, high, series(size, high, seed, args.cache, onset=0))
                progress.step(f"size {size} seed {seed} at {high:g}x from the start")
    return level_table(level, args.sizes)


def level_table(level: LevelCounts, sizes: list[int]) -> str:
    by = WARMUP_WEEKS + QUARTER_WEEKS
    head = ("| level test | staff | units at their peers' level ever level-flagged in 2 years (target <= 5%) "
            "| their level flags per unit-year | of them, the units whose staff's own risk is within 1.25x: "
            "share; ever level-flagged |")
    rule = "|---|---|---|---|---|"
    for high in sorted(LEVELS, reverse=True):
        head += (f" {high:g}x: flagged by week {by} | {high:g}x: flagged in 2 years "
                 f"| {high:g}x: week of the flag, median / p90 |")
        rule += "---|---|---|"
    lines = [head, rule]
    for name in level.configs:
        for size in sizes:
            n = level.peer_units[size]
            flagged, flags = level.peer_flagged[(name, size)], level.peer_flags[(name, size)]
            alike, af = level.alike[size], level.alike_flagged[(name, size)]
            row = (f"| {name} | {size} | {flagged / n:.1%} ({flagged} of {n}) "
                   f"| {flags / (n * (DAYS - WARMUP_WEEKS * 7) / 365):.3f} "
                   f"| {alike / n:.0%}; {af / alike:.1%} ({af} of {alike}) |")
            for high in sorted(LEVELS, reverse=True):
                ws = level.weeks[(name, size, high)]
                early = [w for w in ws if w is not None and w <= by]
                row += f" {len(early)}/{len(ws)} | {detected(ws)} |"
            lines.append(row)
    lines += ["", "Realised levels (median over seeds of the high unit's occasions against the rest's, whole "
              "history):"]
    for size in sizes:
        lines.append(f"- {size} staff: " + ", ".join(
            f"{high:g}x -> {statistics.median(level.realised[(size, high)]):.2f}x" for high in LEVELS))
    return "\n".join(lines)

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
Run: python -m benchmarks.drift_eval [--seeds 20] [--first-seed 1] [--parts drift level care] [--cache DIR]
(progress on stderr; --seeds 5 by default for a quick look, `make drift-eval` runs 20)
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.drift.care_flags import care_part
from benchmarks.drift.care_units import CARE_SIZES
from benchmarks.drift.field import field_part
from benchmarks.drift.sick_leave_drift import drift_part
from benchmarks.drift.sick_leave_level import LevelCounts, level_part
from benchmarks.drift.workplaces import SIZES


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, default=5, help="seeds per size (the table in BENCHMARKS.md: 20)")
    ap.add_argument("--first-seed", type=int, default=1,
                    help="seeds first-seed .. first-seed + seeds - 1 (another set of seeds to confirm on)")
    ap.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    ap.add_argument("--care-sizes", type=int, nargs="*", default=list(CARE_SIZES))
    ap.add_argument("--parts", nargs="*", choices=PARTS, default=list(PARTS),
                    help="drift: the drift table; level: level flags of workplaces; care: care units; "
                    "field: cold starts, seasons, trends and spells drawn per seed")
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
    if "field" in args.parts:
        print()
        print(field_part(args))
    return 0


PARTS = ("drift", "level", "care", "field")


if __name__ == "__main__":
    raise SystemExit(main())

"""Detection delay and false alarms of `unit_sick_leave_drift` on scenarios with a known onset.

Each scenario: a flu season common to all units, one unit whose occasion hazard rises by `drift_factor`
from `drift_onset_day`. A flag on another unit, or on the drifting unit before the onset, is a false alarm.
Run: python -m benchmarks.drift_eval [--seeds 8]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys

from streams.core.config import DriftConfig, MonitorConfig
from streams.core.monitor import Monitor
from streams.core.pseudonym import Pseudonymiser
from streams.files.simulation import Scenario, generate

NOW = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)


def run_one(sc: Scenario, drift: DriftConfig, lines: list[str]) -> tuple[float | None, int, float]:
    monitor = Monitor(MonitorConfig(drift=drift), Pseudonymiser(b"drift-evaluation-key-000"))
    for line in lines:
        monitor.process(line, NOW)
    monitor.finish()
    onset = sc.start + dt.timedelta(days=sc.drift_onset_day)
    drift_unit = sc.unit_ids()[sc.drift_unit] if sc.drift_unit is not None else None
    false_alarms, delay = 0, None
    for flag in monitor.open_flags():
        if flag.rule != "unit_sick_leave_drift":
            continue
        raised = flag.raised_at.date()
        if flag.subject_id == drift_unit and raised >= onset:
            d = (raised - onset).days
            delay = d if delay is None else min(delay, d)
        else:
            false_alarms += 1
    # Unit-years watched after warm-up, for a rate of false alarms.
    unit_years = sc.units * max(sc.days - drift.warmup_weeks * 7, 0) / 365
    return delay, false_alarms, unit_years


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, default=6)
    ap.add_argument("--days", type=int, default=400)
    args = ap.parse_args(argv)
    candidates = [
        DriftConfig(detector="cusum", signal="occasions", threshold=4.0),
        DriftConfig(detector="cusum", signal="occasions", threshold=5.0),
        DriftConfig(detector="cusum", signal="occasions", threshold=6.0),
        DriftConfig(detector="cusum", signal="occasions", shift=1.5, threshold=5.0),
        DriftConfig(detector="cusum", signal="sick_days", threshold=5.0),
        DriftConfig(detector="page_hinkley", signal="occasions", threshold=5.0),
        DriftConfig(detector="page_hinkley", signal="occasions", threshold=8.0),
    ]
    results: dict[int, list[tuple[float | None, int, float]]] = {i: [] for i in range(len(candidates))}
    for seed in range(1, args.seeds + 1):
        sc = Scenario(seed=seed, days=args.days, care_persons=0, drift_onset_day=220)
        lines = [line for _, line in generate(sc)]
        for i, drift in enumerate(candidates):
            results[i].append(run_one(sc, drift, lines))
        print(f"seed {seed}/{args.seeds} done ({len(lines)} events)", file=sys.stderr, flush=True)
    print("| detector | signal | shift | h | detected | median delay (days) | false alarms | per unit-year |")
    print("|---|---|---|---|---|---|---|---|")
    for i, drift in enumerate(candidates):
        rows = results[i]
        delays = [d for d, _, _ in rows if d is not None]
        fa = sum(f for _, f, _ in rows)
        uy = sum(u for _, _, u in rows)
        med = f"{statistics.median(delays):.0f}" if delays else "-"
        print(f"| {drift.detector} | {drift.signal} | {drift.shift:g} | {drift.threshold:g} | "
              f"{len(delays)}/{len(rows)} | {med} | {fa} | {fa / uy:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

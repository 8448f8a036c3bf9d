"""The worker's throughput as the units grow (`python -m benchmarks.worker_scale`, needs the local Kafka):
the same number of input events from histories of 50 units in 1 organisation, 500 in 5 and 5,000 in 20
(benchmarks/org_scale.py's histories: four workplaces to one care unit), each drained by one worker from a
topic of 8 partitions where they wait already (benchmarks/live_throughput.py). Issue 32's target: the rate
at 5,000 units at least 0.8x the rate at 50. The grid is run `--rounds` times, alternating, and each
setting's median is compared (a shared machine moves single runs by 20-30%).

A fixed number of events covers fewer days as the units grow (printed with each run): at 5,000 units
150,000 events are about six days, so the organisation stage evaluates a week or two, not a year of them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from benchmarks.host import say
from benchmarks.live_throughput import live_run
from benchmarks.org_scale import history

GRID = ((50, 1), (500, 5), (5000, 20))


def lines_of(units: int, organisations: int, events: int) -> tuple[list[bytes], int]:
    """The first `events` lines of a history long enough to hold them, and the days it took."""
    days = 8
    while True:
        found = history(units, organisations, days)
        if len(found) >= events or days > 4000:
            return [line.encode() for line in found[:events]], days
        days = int(days * max(1.5, 1.1 * events / max(1, len(found))))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=150_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    from tests.integration.live import ensure_broker

    ensure_broker()
    workdir = Path("/tmp/outcome-monitor-bench")
    workdir.mkdir(parents=True, exist_ok=True)
    inputs = {}
    for units, organisations in GRID:
        inputs[units] = lines_of(units, organisations, args.events)
        say(f"worker at scale: {units:,} units, {len(inputs[units][0]):,} events over {inputs[units][1]} days")
    rates: dict[int, list[float]] = {units: [] for units, _ in GRID}
    for r in range(args.rounds):
        for units, organisations in GRID if r % 2 == 0 else tuple(reversed(GRID)):
            run = live_run(inputs[units][0], 8, 1, workdir)
            rates[units].append(float(str(run["eps"])))
            say(f"worker at scale: round {r + 1}, {units:,} units in {organisations}: {rates[units][-1]:,.0f} "
                f"events/s (load {os.getloadavg()[0]:.2f})")
    base = statistics.median(rates[GRID[0][0]])
    result = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "events": args.events,
              "runs": [{"units": u, "organisations": o, "days": inputs[u][1], "eps": rates[u],
                        "median_eps": statistics.median(rates[u]),
                        "vs_50_units": statistics.median(rates[u]) / base} for u, o in GRID]}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

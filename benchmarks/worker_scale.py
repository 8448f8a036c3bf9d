"""The worker's throughput as the units grow (`python -m benchmarks.worker_scale`, needs the local Kafka):
the same number of input events from histories of 50 units in 1 organisation, 500 in 5 and 5,000 in 20
(benchmarks/org_scale.py's histories: four workplaces to one care unit), each drained by one worker from a
topic of 8 partitions where they wait already (benchmarks/live_throughput.py). Issue 32's target: the rate
at 5,000 units at least 0.8x the rate at 50. The grid is run `--rounds` times, alternating, and each
setting's median is compared (a shared machine moves single runs by 20-30%).

A fixed number of events covers fewer days as the units grow (printed with each run): at 5,000 units
150,000 events are about six days, so the organisation stage evaluates a week or two, not a year of them.
They also meet more persons: each history's persons, and how many of its events are a person's first, are
printed beside it (at 50 units ~1,800 persons, 0.012 first meetings an event; at 5,000 ~29,000 and 0.196),
as are the persons' changelog records per event, the worker's peak resident memory, and the worker's CPU
an event over the drain (all its threads; it moves less with the machine's load than the rate does).
`--decoded-person-states N` runs each setting again with the worker's cache of decoded person states
(`decoded_person_states`, 5,000 by default) holding N; `--write-intervals 2,10` runs each with each state
write interval (`state_write_interval_s`); `--units 50,5000` runs those rows of the grid only.
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


def persons_met(lines: list[bytes]) -> tuple[int, float]:
    """The persons the lines name, and the share of lines that name a person for the first time."""
    seen: set[str] = set()
    first = 0
    for line in lines:
        person = json.loads(line).get("person_id")
        if isinstance(person, str) and person not in seen:
            seen.add(person)
            first += 1
    return len(seen), first / max(1, len(lines))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=150_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--decoded-person-states", type=int, default=None,
                    help="also run each setting with the worker's decoded person cache this large")
    ap.add_argument("--write-intervals", default="",
                    help="run each setting with each of these state write intervals, in seconds "
                         "(comma-separated; default: the worker's own)")
    ap.add_argument("--units", default="",
                    help="only these rows of the grid (comma-separated: 50, 500, 5000)")
    args = ap.parse_args(argv)
    grid = [g for g in GRID if not args.units or str(g[0]) in args.units.split(",")]
    intervals: tuple[float | None, ...] = tuple(float(x) for x in args.write_intervals.split(",") if x) or (None,)
    from tests.integration.live import ensure_broker

    ensure_broker()
    workdir = Path("/tmp/outcome-monitor-bench")
    workdir.mkdir(parents=True, exist_ok=True)
    inputs = {}
    met = {}
    for units, organisations in grid:
        inputs[units] = lines_of(units, organisations, args.events)
        met[units] = persons_met(inputs[units][0])
        say(f"worker at scale: {units:,} units, {len(inputs[units][0]):,} events over {inputs[units][1]} days, "
            f"{met[units][0]:,} persons ({met[units][1]:.3f} first meetings an event)")
    caches: tuple[int | None, ...] = (None,)
    if args.decoded_person_states is not None:
        caches = (None, args.decoded_person_states)
    settings = [(units, organisations, cache, interval) for units, organisations in grid for cache in caches
                for interval in intervals]
    Key = tuple[int, int | None, float | None]
    rates: dict[Key, list[float]] = {(u, c, i): [] for u, _, c, i in settings}
    person_records: dict[Key, list[float]] = {(u, c, i): [] for u, _, c, i in settings}
    memory: dict[Key, list[float]] = {(u, c, i): [] for u, _, c, i in settings}
    cpu: dict[Key, list[float]] = {(u, c, i): [] for u, _, c, i in settings}
    span: dict[Key, list[float]] = {(u, c, i): [] for u, _, c, i in settings}
    for r in range(args.rounds):
        for units, organisations, cache, interval in settings if r % 2 == 0 else list(reversed(settings)):
            for name, value in (("OUTCOME_MONITOR_DECODED_PERSON_STATES", cache),
                                ("OUTCOME_MONITOR_STATE_WRITE_INTERVAL_S", interval)):
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = str(value)
            try:
                run = live_run(inputs[units][0], 8, 1, workdir)
            finally:
                os.environ.pop("OUTCOME_MONITOR_DECODED_PERSON_STATES", None)
                os.environ.pop("OUTCOME_MONITOR_STATE_WRITE_INTERVAL_S", None)
            key = (units, cache, interval)
            rates[key].append(float(str(run["eps"])))
            written: dict[str, tuple[float, float | None]] = run["written"]  # type: ignore[assignment]
            person_records[key].append(written["persons"][0])
            memory[key].append(float(str(run["rss_peak"])) / 2**20)
            cpu[key].append(float(str(run["cpu_us_per_event"])))
            span[key].append(float(str(run["span_eps"])))
            say(f"worker at scale: round {r + 1}, {units:,} units in {organisations}"
                f"{'' if cache is None else f', {cache:,} decoded person states'}"
                f"{'' if interval is None else f', states written every {interval:g} s'}: {rates[key][-1]:,.0f} "
                f"events/s ({span[key][-1]:,.0f} first output to last), "
                f"{cpu[key][-1]:.0f} µs of the worker's CPU an event, "
                f"{written['persons'][0]:.3f} person-state records an event, "
                f"{memory[key][-1]:,.0f} MiB resident at the peak (load {os.getloadavg()[0]:.2f})")
    first = settings[0]
    base = statistics.median(rates[(first[0], first[2], first[3])])
    result = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "events": args.events,
              "runs": [{"units": u, "organisations": o, "decoded_person_states": c, "write_interval_s": i,
                        "days": inputs[u][1], "persons": met[u][0], "first_meetings_per_event": met[u][1],
                        "eps": rates[(u, c, i)], "span_eps": span[(u, c, i)],
                        "person_records_per_event": person_records[(u, c, i)],
                        "peak_rss_mib": memory[(u, c, i)],
                        "worker_cpu_us_per_event": cpu[(u, c, i)], "median_eps": statistics.median(rates[(u, c, i)]),
                        f"vs_{first[0]}_units": statistics.median(rates[(u, c, i)]) / base}
                       for u, o, c, i in settings]}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The speed of replay, the core in one process: against a bare `json.loads` loop over the same simulated
lines (section 1), and one person's events in time order against the same in reverse (section 6)."""

from __future__ import annotations

import datetime as dt
import json
import time

from benchmarks.host import say
from streams.core.config import MonitorConfig
from streams.core.monitor import Monitor
from streams.core.pseudonym import Pseudonymiser
from streams.simulators.simulation import Scenario, generate

KEY = b"benchmark-pseudonym-key-00000000"


def simulated_lines(events: int) -> list[bytes]:
    """At least `events` realistic lines of one year: the more events, the more units and persons."""
    say(f"generating at least {events:,} realistic events with the simulator")
    care = max(200, int(events / 190))
    while True:
        scenario = Scenario(seed=101, days=365, units=max(10, events // 12_000), care_persons=care)
        lines = [line.encode() for _, line in generate(scenario)]
        if len(lines) >= events:
            break
        care = int(care * events / len(lines) * 1.05) + 1
        say(f"  {len(lines):,} is too few; again with {care:,} people in care")
    return lines


def bench_replay(events: int) -> dict[str, object]:
    lines = simulated_lines(events)
    # CPU time of this process, for both: the machine's cores are shared, and wall time would count other
    # processes' turns (most of all in the short bare loop).
    say(f"{len(lines):,} events; bare json.loads loop (the fastest of three: a slow baseline flatters the ratio)")
    bare = float("inf")
    for _ in range(3):
        t = time.process_time()
        for line in lines:
            json.loads(line)
        bare = min(bare, time.process_time() - t)
    say("replay through the whole core (validation, indicators, rules, drift)")
    monitor = Monitor(MonitorConfig(), Pseudonymiser(KEY))
    now = dt.datetime.now(dt.UTC)
    t = time.process_time()
    last = time.perf_counter()
    for i, line in enumerate(lines):
        monitor.process(line, now)
        if i % 50_000 == 0 and time.perf_counter() - last > 5:
            last = time.perf_counter()
            say(f"  replay {i:,}/{len(lines):,}")
    core = time.process_time() - t
    return {"events": len(lines), "bare_s": bare, "replay_s": core, "bare_eps": len(lines) / bare,
            "replay_eps": len(lines) / core, "ratio": core / bare, "flags": len(monitor.flags)}


def bench_reversed(n: int) -> dict[str, object]:
    """One person's `n` ED visits within the allowed lateness, in time order and in reverse."""
    t0 = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    lines = [json.dumps({"event_id": f"v{i}", "event_type": "emergency_visit", "unit_id": "u", "person_id": "p1",
                         "occurred_at": (t0 + dt.timedelta(seconds=i * 6 * 86400 // n)).isoformat()})
             for i in range(n)]
    out: dict[str, object] = {"events": n}
    for name, order in (("in_order", lines), ("reversed", lines[::-1])):
        say(f"one person, {n:,} events {name.replace('_', ' ')}")
        monitor = Monitor(MonitorConfig(), Pseudonymiser(KEY))
        now = dt.datetime.now(dt.UTC)
        t = time.perf_counter()
        for line in order:
            monitor.feed(line, now)
        monitor.finish()
        out[name] = time.perf_counter() - t
        assert monitor.tally.accepted == n, monitor.tally.rejected
    return out

"""The speed of replay, the core in one process: against a bare `json.loads` loop over the same simulated
lines (section 1), its cost per event as the history grows longer (section 1), and one person's events in
time order against the same in reverse (section 6)."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

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


def history_copies(lines: list[bytes], copies: int) -> list[bytes]:
    """The simulated year preceded by `copies - 1` more of it, each a whole number of weeks earlier (the
    same weekdays; earlier, so that none is ahead of the wall clock), its event and stay ids its own: the
    same units and persons over `copies` years, so that the units, the organisation and the persons hold as
    much history as a deployment's retention lets them. The last copy is `lines` themselves."""
    out: list[bytes] = []
    shift = dt.timedelta(weeks=53)
    for k in range(copies - 1, 0, -1):
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                out.append(line)
                continue
            if isinstance(event, dict):
                for name in ("event_id", "stay_id"):
                    if isinstance(event.get(name), str):
                        event[name] = f"{event[name]}~{k}"
                for name in ("occurred_at", "retracted_occurred_at"):
                    if isinstance(event.get(name), str):
                        event[name] = (dt.datetime.fromisoformat(event[name]) - k * shift).isoformat()
            out.append(json.dumps(event, separators=(",", ":")).encode())
    return out + lines


def bench_history(events: int, copies: int = 8) -> dict[str, object]:
    """Replay's CPU per event on the simulated year (1x) and on `copies` years of the same units and
    persons, in one run: the cost per event must not grow as the kept history reaches `retention_days`
    and `refold_weeks` and forgetting begins. Each copy's own cost per event is kept too (the last
    copy's against the first's is the growth with nothing else differing)."""
    one = simulated_lines(events)
    lines = history_copies(one, copies)
    out: dict[str, object] = {"events": len(one), "copies": copies}
    for name, run in (("1x", one), (f"{copies}x", lines)):
        say(f"replay of {name} the history: {len(run):,} events")
        monitor = Monitor(MonitorConfig(), Pseudonymiser(KEY))
        now = dt.datetime.now(dt.UTC)
        per_copy = []
        for k in range(0, len(run), len(one)):
            t = time.process_time()
            for line in run[k: k + len(one)]:
                monitor.process(line, now)
            per_copy.append((time.process_time() - t) / len(one) * 1e6)
        out[name] = {"events": len(run), "us_per_event": sum(per_copy) / len(per_copy),
                     "per_copy_us": per_copy, "flags": len(monitor.flags)}
        say(f"  {name}: {sum(per_copy) / len(per_copy):.1f} us/event; per copy "
            + ", ".join(f"{x:.1f}" for x in per_copy))
    whole: dict[str, Any] = out[f"{copies}x"]  # type: ignore[assignment]
    first: dict[str, Any] = out["1x"]  # type: ignore[assignment]
    out["growth"] = whole["us_per_event"] / first["us_per_event"]
    out["last_copy_growth"] = whole["per_copy_us"][-1] / whole["per_copy_us"][0]
    return out


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


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="replay's cost per event at 1x and at N times the history; with "
                                 "--ratio, replay's CPU against a bare json.loads loop over the same lines")
    ap.add_argument("--events", type=int, default=130_000, help="events of one simulated year")
    ap.add_argument("--copies", type=int, default=8)
    ap.add_argument("--ratio", action="store_true", help="replay against json.loads (section 1's table) instead")
    args = ap.parse_args()
    print(json.dumps(bench_replay(args.events) if args.ratio else bench_history(args.events, args.copies), indent=1))

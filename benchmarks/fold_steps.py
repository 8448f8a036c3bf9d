"""How often replay takes a person's fold step (`Folder.fold`) per event, and its CPU per event, on a
simulated history: as the simulator makes it, or with many events arriving days late (within the allowed
lateness), retracted, or sent again with other content, so that the tracker's late-fact, retraction and
conflict paths are taken often. The history can be written out, for `outcome-monitor replay` on the same
lines (its outputs before and after a change to the tracker compared byte for byte).

    python -m benchmarks.fold_steps --events 50000 --late 0.05 --write /tmp/late.jsonl.gz
"""

from __future__ import annotations

import datetime as dt
import gc
import gzip
import json
import random
import sys
import time
from pathlib import Path

from benchmarks.host import say
from benchmarks.replay_speed import KEY, simulated_lines
from streams.core.config import MonitorConfig
from streams.core.monitor import Monitor
from streams.core.person.facts import Fact
from streams.core.person.fold import Emits, PersonFold
from streams.core.person.folder import Folder
from streams.core.pseudonym import Pseudonymiser

DAY_S = 86400


def _occurred(event: dict[str, object]) -> float:
    return dt.datetime.fromisoformat(str(event["occurred_at"])).timestamp()


def with_late_arrivals(lines: list[bytes], late: float, retract: float, conflict: float,
                       seed: int = 5) -> list[bytes]:
    """`lines` with a share `late` of the person events arriving 0.5-6.5 days after the stream's clock
    passed them (within the default 7-day lateness), a share `retract` taken back by a retraction
    0-6 days later, and a share `conflict` sent again 0-6 days later under the same id with other content."""
    rng = random.Random(seed)
    keyed: list[tuple[float, int, bytes]] = []
    clock = float("-inf")
    for i, line in enumerate(lines):
        try:
            event = json.loads(line)
            t = _occurred(event)
        except (ValueError, KeyError, TypeError):
            keyed.append((clock, i, line))
            continue
        clock = max(clock, t)
        arrival = clock
        person = isinstance(event, dict) and "person_id" in event
        if person and rng.random() < late:
            arrival += rng.uniform(0.5, 6.5) * DAY_S
        keyed.append((arrival, i, line))
        if not person:
            continue
        if rng.random() < retract:
            body = {"event_id": f"{event['event_id']}-r", "event_type": "retraction",
                    "occurred_at": event["occurred_at"], "unit_id": event["unit_id"],
                    "person_id": event["person_id"], "retracts": event["event_id"],
                    "retracted_occurred_at": event["occurred_at"]}
            keyed.append((arrival + rng.uniform(0, 6) * DAY_S, i, json.dumps(body).encode()))
        if rng.random() < conflict:
            other = dict(event)
            other["occurred_at"] = dt.datetime.fromtimestamp(t + 3600, dt.UTC).isoformat()
            keyed.append((arrival + rng.uniform(0, 6) * DAY_S, i, json.dumps(other).encode()))
    return [line for _, _, line in sorted(keyed, key=lambda k: (k[0], k[1]))]


def history(events: int, late: float, retract: float, conflict: float) -> list[bytes]:
    lines = simulated_lines(events)
    if late or retract or conflict:
        lines = with_late_arrivals(lines, late, retract, conflict)
    return lines


def count_steps(lines: list[bytes]) -> dict[str, float]:
    """Replay `lines`, counting the fold steps (a wrapper around `Folder.fold`, in this process only)."""
    steps = 0
    fold = Folder.fold

    def counted(self: Folder, s: PersonFold, f: Fact, subject: str, out: Emits) -> None:
        nonlocal steps
        steps += 1
        fold(self, s, f, subject, out)

    Folder.fold = counted  # type: ignore[method-assign]
    try:
        monitor = replay(lines)
    finally:
        Folder.fold = fold  # type: ignore[method-assign]
    return {"events": len(lines), "accepted": monitor.tally.accepted, "fold_steps": steps,
            "steps_per_event": steps / len(lines), "persons": len(monitor.persons),
            "bytes_per_person": deep_size(list(monitor.persons.values())) / max(len(monitor.persons), 1)}


def deep_size(root: object) -> int:
    """Bytes of the objects reachable from `root`, each counted once (classes, functions and modules left
    out): what the persons' states hold in memory at the end of replay, caches included."""
    seen: set[int] = set()
    todo = [root]
    total = 0
    while todo:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, type) or callable(obj) or type(obj).__name__ == "module":
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        todo.extend(gc.get_referents(obj))
    return total


def replay(lines: list[bytes]) -> Monitor:
    monitor = Monitor(MonitorConfig(), Pseudonymiser(KEY))
    now = dt.datetime.now(dt.UTC)
    for line in lines:
        monitor.feed(line, now)
    monitor.finish()
    return monitor


def cpu_per_event(lines: list[bytes], repeats: int) -> list[float]:
    """Replay's CPU time per event (us), each of `repeats` runs."""
    out = []
    for _ in range(repeats):
        t = time.process_time()
        replay(lines)
        out.append((time.process_time() - t) / len(lines) * 1e6)
    return out


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="fold steps and CPU per event of replay on a simulated history")
    ap.add_argument("--events", type=int, default=50_000, help="at least this many simulated events")
    ap.add_argument("--late", type=float, default=0.0, help="share of person events arriving days late")
    ap.add_argument("--retract", type=float, default=0.0, help="share of person events retracted later")
    ap.add_argument("--conflict", type=float, default=0.0, help="share sent again with other content")
    ap.add_argument("--read", type=Path, help="instead of simulating: the lines of this file (.jsonl or .jsonl.gz)")
    ap.add_argument("--write", type=Path, help="write the history here (.jsonl or .jsonl.gz) and stop")
    ap.add_argument("--cpu", type=int, default=0, help="also replay this many times for CPU per event")
    args = ap.parse_args()
    if args.read is not None:
        with (gzip.open if args.read.suffix == ".gz" else open)(args.read, "rb") as fh:  # type: ignore[operator]
            lines = fh.read().splitlines()
    else:
        lines = history(args.events, args.late, args.retract, args.conflict)
    if args.write is not None:
        opener = gzip.open if args.write.suffix == ".gz" else open
        with opener(args.write, "wb") as fh:  # type: ignore[operator]
            fh.write(b"".join(line + b"\n" for line in lines))
        say(f"wrote {len(lines):,} lines to {args.write}")
    else:
        result: dict[str, object] = dict(count_steps(lines))
        if args.cpu:
            result["cpu_us_per_event"] = cpu_per_event(lines, args.cpu)
        print(json.dumps(result, indent=1))

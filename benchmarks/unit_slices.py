"""A long backfill over many units, end to end (`python -m benchmarks.unit_slices`, needs the local Kafka):
a year of `org_scale.history` over 300 units in 5 organisations (~650,000 events) waits in a topic of 8
partitions and one worker drains it. Each unit's state is then 30-60 KiB, so what the units stage holds at
a write is ~12 MiB and goes out in more than one slice of at most `WRITE_SLICE_BYTES`
(agents/runtime/stage_agent.py), each acknowledged before the next is made.

It prints the drain, the worker's peak memory, the units changelog's last write as the broker received it
(records grouped where more than 15 ms lie between them: a slice's flush is such a gap), and whether the
flags and the unit indicators are `replay`'s; it fails (exit status 1) when they are not, or when the
worker logged an error.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from benchmarks.host import process_rss, say
from benchmarks.org_scale import history
from benchmarks.publish import publish_lines

GAP_MS = 15


def write_bursts(timestamps_and_sizes: list[tuple[int, int]], gap_ms: int = GAP_MS) -> list[tuple[int, int, int]]:
    """Records grouped in time order wherever more than `gap_ms` lie between two: (first ms, records, bytes)."""
    bursts: list[list[int]] = []
    last = None
    for stamp, size in sorted(timestamps_and_sizes):
        if last is None or stamp - last > gap_ms:
            bursts.append([stamp, 0, 0])
        bursts[-1][1] += 1
        bursts[-1][2] += size
        last = stamp
    return [(b[0], b[1], b[2]) for b in bursts]


def run(units: int, days: int, workdir: Path) -> dict[str, object]:
    from tests.integration.conftest import indicators_from_states, replay_flags, replay_indicators, replayed
    from tests.integration.live import Namespace, Worker, changelog_states, final_flags, read_records, wait_drained

    lines = history(units, 5, days)
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"unit-slices-{units}-{days}.jsonl"
    path.write_text("\n".join(lines) + "\n")
    say(f"unit slices: {len(lines):,} events of {units} units over {days} days")
    ns = Namespace(partitions=8)
    publish_lines(ns.events, [line.encode() for line in lines], 8)
    worker = Worker(ns, workdir, f"{ns.name}-slices").start()
    try:
        worker.wait_ready(180)
        t = time.perf_counter()
        wait_drained(ns, [worker], timeout=3600)
        drain_s = time.perf_counter() - t
        peak = process_rss(worker, "VmHWM")
    finally:
        worker.stop()
    records = read_records(f"{ns.name}-units-changelog")
    # the changelog is compacted: earlier writes may be gone, the last one (after the drain) is whole
    last_write = write_bursts([(r.timestamp, len(r.value or b"")) for r in records])
    last_write = [b for b in last_write if b[0] >= last_write[-1][0] - 5_000]
    say("unit slices: replaying the same file")
    monitor = replayed(path)
    errors = [line for line in worker.log_path.read_text(errors="replace").splitlines()
              if " ERROR " in line or "Traceback" in line]
    return {"events": len(lines), "units": units, "drain_s": drain_s, "eps": len(lines) / drain_s,
            "peak_rss_mib": peak / 2**20,
            "largest_unit_state_kib": max(len(r.value or b"") for r in records) / 1024,
            "last_write": [{"records": n, "mib": size / 2**20} for _, n, size in last_write],
            "flags": len(replay_flags(monitor)), "flags_equal": final_flags(ns) == replay_flags(monitor),
            "indicators_equal": indicators_from_states(changelog_states(ns, "units")) == replay_indicators(monitor),
            "errors_logged": len(errors)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--units", type=int, default=300)
    ap.add_argument("--days", type=int, default=365)
    args = ap.parse_args(argv)
    result = run(args.units, args.days, Path("/tmp/outcome-monitor-bench"))
    print(json.dumps(result, indent=1))
    return 0 if result["flags_equal"] and result["indicators_equal"] and not result["errors_logged"] else 1


if __name__ == "__main__":
    raise SystemExit(main())

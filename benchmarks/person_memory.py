"""Memory per tracked person (section 4): what the worker's resident memory grows by per person it
tracks, and what replay's process grows by, each replay size in a process of its own."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

from benchmarks.host import in_fresh_process, process_rss, rss_bytes, say
from benchmarks.publish import publish_lines
from benchmarks.replay_speed import KEY
from streams.core.config import MonitorConfig
from streams.core.monitor import Monitor
from streams.core.pseudonym import Pseudonymiser


def bench_memory(persons: int) -> dict[str, object]:
    say(f"memory: {persons:,} persons, 3 events each")
    monitor = Monitor(MonitorConfig(), Pseudonymiser(KEY))
    now = dt.datetime.now(dt.UTC)
    base = dt.datetime(2025, 3, 3, 8, tzinfo=dt.UTC)
    before = rss_bytes()
    t = time.perf_counter()
    n = 0
    for day in range(3):
        stamp = (base + dt.timedelta(days=day)).isoformat()
        for p in range(persons):
            kind = "emergency_visit" if p % 2 else "sick_leave"
            line = json.dumps({"event_id": f"m{day}-{p}", "event_type": kind, "occurred_at": stamp,
                               "unit_id": f"u{p % 200}", "person_id": f"person-{p}"})
            monitor.process(line, now)
            n += 1
    elapsed = time.perf_counter() - t
    grown = rss_bytes() - before
    state_bytes = sum(len(json.dumps(s.to_dict())) for s in monitor.persons.values())
    return {"persons": persons, "rss_per_person": grown / persons, "state_per_person": state_bytes / persons,
            "eps": n / elapsed}


def memory_in_fresh_process(persons: int) -> dict[str, object]:
    """Each size in its own process: memory freed by an earlier size would otherwise be reused and
    hide the growth."""
    return in_fresh_process(
        f"import json; from benchmarks.person_memory import bench_memory; print(json.dumps(bench_memory({persons})))")


def worker_memory_run(persons: int, workdir: Path) -> dict[str, object]:
    """The production figure: resident memory a worker gains per person it tracks (one event each)."""
    from streams.agents.runtime.heap_trim import TRIM_INTERVAL_S
    from tests.integration.live import Namespace, Worker, wait_drained

    ns = Namespace(partitions=8)
    base = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=1)
    lines = [json.dumps({"event_id": f"wm-{i}", "event_type": "sick_leave" if i % 2 else "emergency_visit",
                         "occurred_at": (base + dt.timedelta(seconds=i % 3600)).isoformat(),
                         "unit_id": f"u{i % 200}", "person_id": f"person-{i}"}).encode() for i in range(persons)]
    say(f"worker memory: {persons:,} persons, one event each")
    publish_lines(ns.events, lines, 8)
    worker = Worker(ns, workdir, f"{ns.name}-mem").start()
    try:
        worker.wait_ready(180)
        before = process_rss(worker)
        wait_drained(ns, [worker], timeout=1800)
        # the worker hands free heap pages back after work, at most TRIM_INTERVAL_S later (agents/runtime/heap_trim.py)
        time.sleep(2 * TRIM_INTERVAL_S + 1)
        after = process_rss(worker)
        peak = process_rss(worker, "VmHWM")
        tracked = worker.metrics().get('outcome_table_entries{table="persons"}', 0.0)
    finally:
        worker.stop()
    return {"persons": tracked, "rss_per_person": (after - before) / max(tracked, 1),
            "peak_per_person": (peak - before) / max(tracked, 1)}

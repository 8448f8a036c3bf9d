"""Live throughput (section 2): the worker(s) draining events already in a topic of so many partitions,
from ready until every output is out, their resident memory once drained, and what each stage wrote to
its table's changelog (records and bytes per input event)."""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks.host import process_cpu_s, process_rss, say
from benchmarks.publish import publish_lines


def live_run(lines: list[bytes], partitions: int, workers: int, workdir: Path) -> dict[str, object]:
    from tests.integration.live import Namespace, Worker, end_offsets, read_topic, wait_drained

    ns = Namespace(partitions=partitions)
    say(f"live: {len(lines):,} events into {partitions} partitions, {workers} worker(s)")
    publish_lines(ns.events, lines, partitions)
    procs = [Worker(ns, workdir, f"{ns.name}-w{i}") for i in range(workers)]
    t0 = time.perf_counter()
    for w in procs:
        w.start()
    try:
        for w in procs:
            w.wait_ready(180)
        ready = time.perf_counter()
        cpu_ready = sum(process_cpu_s(w) for w in procs)
        wait_drained(ns, procs, timeout=1800)
        done = time.perf_counter()
        cpu = sum(process_cpu_s(w) for w in procs) - cpu_ready
        rss = sum(process_rss(w) for w in procs)
        rss_peak = sum(process_rss(w, "VmHWM") for w in procs)
        persons = sum(w.metrics().get('outcome_table_entries{table="persons"}', 0.0) for w in procs)
    finally:
        for w in procs:
            w.stop()
    written = {}
    for table in STATE_TABLES:
        topic = f"{ns.name}-{table}-changelog"
        records = sum(end_offsets([topic]).values())
        size = sum(len(v or b"") + len(k or b"") for k, v in read_topic(topic)) if table != "persons" else None
        written[table] = (records / len(lines), size / len(lines) if size is not None else None)
    return {"events": len(lines), "partitions": partitions, "workers": workers,
            "startup_s": ready - t0, "drain_s": done - ready, "eps": len(lines) / (done - ready), "ns": ns,
            "cpu_us_per_event": cpu / len(lines) * 1e6,
            "persons": persons, "rss": rss, "rss_peak": rss_peak, "written": written}


#: The tables whose changelog writes are counted (persons: records only; the others are few and large).
STATE_TABLES = ("persons", "units", "org")

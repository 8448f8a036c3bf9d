"""Live throughput (section 2): the worker(s) draining events already in a topic of so many partitions,
their resident memory once drained, and what each stage wrote to its table's changelog (records and bytes
per input event).

Two clocks. `eps` runs from the worker being ready until its positions say every record of every topic is
processed (`wait_drained`): it counts the start of the first fetch, the state write interval (positions move
with the states: every `state_write_interval_s` while batches come, a second after the last) and the
one-second polling of the positions. `span_eps`
runs from the worker's first output to its last, by the broker's record timestamps (set by the worker's
producers when each record is sent): the clock of the bare faust agent (`bare_faust.py`), which runs from
its first record delivered to its last decoded, so that the two compare the same span of work."""

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
    first_ms, last_ms = output_span(ns.internal, [*ns.internal, ns.flags, ns.rejected])
    written = {}
    for table in STATE_TABLES:
        topic = f"{ns.name}-{table}-changelog"
        records = sum(end_offsets([topic]).values())
        size = sum(len(v or b"") + len(k or b"") for k, v in read_topic(topic)) if table != "persons" else None
        written[table] = (records / len(lines), size / len(lines) if size is not None else None)
    return {"events": len(lines), "partitions": partitions, "workers": workers,
            "startup_s": ready - t0, "drain_s": done - ready, "eps": len(lines) / (done - ready), "ns": ns,
            "span_s": (last_ms - first_ms) / 1000, "span_eps": len(lines) * 1000 / max(1, last_ms - first_ms),
            "cpu_us_per_event": cpu / len(lines) * 1e6,
            "persons": persons, "rss": rss, "rss_peak": rss_peak, "written": written}


#: The tables whose changelog writes are counted (persons: records only; the others are few and large).
STATE_TABLES = ("persons", "units", "org")


def output_span(first_of: list[str], last_of: list[str]) -> tuple[int, int]:
    """The broker timestamps (ms) of the earliest first record of the topics `first_of` and of the latest
    last record of the topics `last_of` (each topic written by this run alone)."""
    from kafka import KafkaConsumer, TopicPartition

    from tests.integration.live import BOOTSTRAP

    consumer = KafkaConsumer(bootstrap_servers=BOOTSTRAP, enable_auto_commit=False)
    try:
        def stamp(tp: TopicPartition, offset: int) -> int | None:
            consumer.assign([tp])
            consumer.seek(tp, offset)
            for _ in range(10):
                for records in consumer.poll(timeout_ms=1000, max_records=1).values():
                    return int(records[0].timestamp)
            return None

        def partitions(topics: list[str]) -> list[TopicPartition]:
            return [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]

        firsts, lasts = partitions(first_of), partitions(last_of)
        begin, end = consumer.beginning_offsets(firsts), consumer.end_offsets(sorted({*firsts, *lasts}))
        # an empty partition (programme events without programmes, say) has no first or last record
        first = [s for tp in firsts if end[tp] > begin[tp] and (s := stamp(tp, begin[tp])) is not None]
        last = [s for tp in lasts if end[tp] > 0 and (s := stamp(tp, end[tp] - 1)) is not None]
        return min(first), max(last)
    finally:
        consumer.close()

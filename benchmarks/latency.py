"""Latency at a fixed publish rate (section 3): event sent -> flag record written, and the worker's own
processing-latency histogram, with the publisher in a process of its own."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import time
from pathlib import Path

from benchmarks.host import in_fresh_process, say


def latency_in_fresh_process(rate: float, seconds: float, busy_cores: int = 0) -> dict[str, object]:
    """The publisher in a process of its own: this one holds the replay runs' objects by then, and the
    collector's pauses over them held the publisher's records back (the record's timestamp and our
    send time both come before them): a publisher holding 3 million objects gave a p99 of 1.46 s where
    an empty one gave 0.61-0.93 s, against the same worker minutes apart.

    With `busy_cores`, `stress-ng --cpu N` keeps that many cores busy for the whole run (a machine that
    is not otherwise idle)."""
    stress = (subprocess.Popen(["stress-ng", "--cpu", str(busy_cores), "--quiet"], stdout=subprocess.DEVNULL)
              if busy_cores else None)
    try:
        result = in_fresh_process(
            "import json; from pathlib import Path; from benchmarks.latency import latency_run; "
            f"print(json.dumps(latency_run({rate}, {seconds}, Path('/tmp/outcome-monitor-bench'))))")
    finally:
        if stress:
            stress.terminate()
            stress.wait(30)
    return {**result, "busy_cores": busy_cores}


def latency_run(rate: float, seconds: float, workdir: Path) -> dict[str, object]:
    """Publish at a fixed rate with wall-clock event times; event-to-flag from record timestamps.

    The publisher is librdkafka (confluent-kafka), as a source system's would be: kafka-python, sending
    each record in a request of its own, took 62-69% of a core at 1,000 records/s, and this machine has
    two (the broker took ~43% and the worker ~75%): the worker waited for the core the publisher held.
    The publisher's own CPU share is reported beside the result."""
    from confluent_kafka import Producer

    from streams.agents.runtime.topics import TopicSpec, ensure_topics
    from tests.integration.live import BOOTSTRAP, Namespace, Worker, wait_drained

    ns = Namespace(partitions=8)
    ensure_topics(BOOTSTRAP, [TopicSpec(ns.events, 8)])
    workdir.mkdir(parents=True, exist_ok=True)  # run alone, before any other bench made it
    worker = Worker(ns, workdir, f"{ns.name}-lat").start()
    worker.wait_ready(180)
    producer = Producer({"bootstrap.servers": BOOTSTRAP, "acks": 1, "linger.ms": 0})
    sent_at: dict[str, float] = {}
    total = int(rate * seconds)
    say(f"latency: {total:,} events at {rate:.0f}/s for {seconds:.0f} s")
    start = time.time()
    cpu_before = time.process_time()  # librdkafka's threads included
    # Each person's 4th visit raises a flag. Persons take turns in groups of 250 (a person's visits a
    # quarter of a second apart), so flags come at a steady 250/s from the first second on. (Until
    # this round a person's visits were a quarter of the run apart, so every flag came in the run's
    # last quarter, at 1,000 flags/s: a burst, not a steady pace.)
    try:
        for i in range(total):
            due = start + i / rate
            pause = due - time.time()
            if pause > 0:
                time.sleep(pause)
            now = dt.datetime.now(dt.UTC)
            person = f"pat-{(i // 1000) * 250 + i % 250}"
            event_id = f"lat-{i}"
            line = json.dumps({"event_id": event_id, "event_type": "emergency_visit", "unit_id": f"vc-{i % 20}",
                               "person_id": person, "occurred_at": now.isoformat()}).encode()
            sent_at[event_id] = time.time()
            producer.produce(ns.events, key=person.encode(), value=line)
            producer.poll(0)
            if i % 5000 == 0:
                say(f"  latency publish {i:,}/{total:,}")
        producer.flush(60)
        publisher_cpu = (time.process_time() - cpu_before) / (time.time() - start)
        wait_drained(ns, [worker], timeout=600)
        metrics = worker.metrics()
    finally:
        worker.stop()
    # Flag record timestamps (CreateTime = when the worker sent it) against our send times.
    from tests.integration.live import read_records

    latencies = []
    for rec in read_records(ns.flags):
        # the evidence's last event sent (its ids are in text order: "lat-9" comes after "lat-759")
        sent = [i for i in json.loads(rec.value)["evidence"].get("event_ids", []) if i in sent_at]
        trigger = max(sent, key=sent_at.__getitem__) if sent else None
        if trigger is not None:
            latencies.append(rec.timestamp / 1000 - sent_at[trigger])
    latencies.sort()
    buckets = {k: v for k, v in metrics.items() if k.startswith("outcome_processing_latency_seconds_bucket")}

    def quantile(q: float) -> float:
        count = metrics.get("outcome_processing_latency_seconds_count", 0.0)
        target = q * count
        pairs = sorted((float(k.split('le="')[1].split('"')[0]) if "+Inf" not in k else float("inf"), v)
                       for k, v in buckets.items())
        for le, cum in pairs:
            if cum >= target:
                return le
        return float("inf")

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else float("nan")

    return {"rate": rate, "seconds": seconds, "events": total, "flags": len(latencies),
            "flag_p50": pct(0.5), "flag_p99": pct(0.99), "metric_p50_le": quantile(0.5),
            "metric_p99_le": quantile(0.99), "publisher_cpu": publisher_cpu}

"""Nothing about one record stops a partition, and /health tells the truth, as a stranger would find it:
a librdkafka producer (gzip and zstd) sends a 2 MB and a 900 KB line among valid events (the broker takes
them: it limits the compressed batch, 1 MiB by default, and these compress to a few KB); the worker is
SIGKILLed in the middle; then the broker refuses what the ingest stage writes (a real condition: the
internal topic's max.message.bytes lowered) until it is lifted again."""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import json
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource

from streams.core.config import MonitorConfig
from streams.core.monitor import Monitor
from streams.core.pseudonym import Pseudonymiser
from streams.files.lines import open_lines
from tests.integration.backfill import Record, history_records, publish_confluent
from tests.integration.conftest import indicators_from_states, replay_flags, replay_indicators, replayed
from tests.integration.live import (
    BIN,
    BOOTSTRAP,
    PSEUDONYM_KEY,
    ROOT,
    Namespace,
    Worker,
    changelog_states,
    final_flags,
    ingested,
    read_records,
    wait_drained,
)

pytestmark = pytest.mark.integration

CODECS = ("gzip", "zstd")
# librdkafka refuses a message over its own message.max.bytes (1,000,000) before compressing it: a
# stranger sending a 2 MB line raises it, as they must with kcat (-X message.max.bytes).
LARGE_MESSAGES = {"message.max.bytes": 4 * 1024 * 1024}
BIG = {"big-2mb": 2_000_000, "big-900kb": 900_000}
KEPT = 64 * 1024  # dead_letter_original_bytes' default


def oversized(line: str, event_id: str, size: int) -> str:
    """A valid event of the stream with a long free-text note pasted in: `size` bytes."""
    body = json.loads(line)
    body["event_id"] = event_id
    head = json.dumps(body)[:-1] + ', "note": "'
    text = "ringde om sjukskrivningen, ingen aterkoppling annu. "
    filler = (text * (size // len(text) + 1))[: size - len(head) - 2]
    return head + filler + '"}'


def health(worker: Worker) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(worker.url("/health"), timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def wait_health(worker: Worker, what: str, ok: Any, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    seen: tuple[int, dict[str, Any]] | None = None
    while time.monotonic() < deadline:
        worker.assert_alive()
        seen = health(worker)
        if ok(*seen):
            return seen[1]
        time.sleep(1.0)
    raise AssertionError(f"/health never {what} in {timeout}s; last {seen}; log: {worker.tail()}")


def person_events_limit(ns: Namespace, limit: str | None) -> None:
    """Set (or remove) the broker's max.message.bytes on the worker's person-events topic."""
    op = AlterConfigOpType.SET if limit else AlterConfigOpType.DELETE
    resource = ConfigResource("TOPIC", f"{ns.name}.person-events", incremental_configs=[
        ConfigEntry("max.message.bytes", limit or "", incremental_operation=op)])
    admin = AdminClient({"bootstrap.servers": BOOTSTRAP})  # held until the answer is in
    for fut in admin.incremental_alter_configs([resource]).values():
        fut.result(30)


def publish(ns: Namespace, records: list[Record]) -> None:
    publish_confluent(ns.events, records, CODECS, ns.partitions, LARGE_MESSAGES)


#: The kill lands at a different point in each run (how far ingest got when it is seen): the first run
#: also has the broker refuse the ingest stage's output; each run's outputs must be replay's.
RUNS = 3


def test_oversized_lines_are_dead_lettered_once_through_a_kill_and_a_refusing_broker_shows_on_health(
    ns: Namespace, workers: list[Worker], tmp_path: Path, small_stream: Path
) -> None:
    lines = small_stream.read_text().splitlines()
    n = len(lines)
    valid = [i for i, line in enumerate(lines) if '"sick_leave"' in line]
    lines.insert(n // 2, oversized(lines[valid[len(valid) // 2]], "big-900kb", BIG["big-900kb"]))
    lines.insert(n // 6, oversized(lines[valid[len(valid) // 6]], "big-2mb", BIG["big-2mb"]))
    path = tmp_path / "with-oversized-lines.jsonl"
    path.write_text("\n".join(lines) + "\n")
    records = history_records(path)
    first, second, third = records[: n // 3], records[n // 3: -300], records[-300:]
    reference = replayed(path)
    assert reference.tally.rejected["too_large"] == 2
    late_in_replay = replay_too_late(path)

    for run in range(RUNS):
        here = ns if run == 0 else Namespace()
        worker = killed_twice(here, workers, tmp_path, first, second)
        if run == 0:
            broker_refuses_then_takes(here, worker, third)
        else:
            publish(here, third)
        wait_drained(here, [worker], timeout=600)
        worker.assert_alive()
        outputs_are_replays(here, worker, tmp_path, reference, late_in_replay, lines)
        worker.stop()


def killed_twice(ns: Namespace, workers: list[Worker], tmp_path: Path, first: list[Record],
                 second: list[Record]) -> Worker:
    """The first third (with the 2 MB line) waits in the topic, the rest (with the 900 KB line) comes
    while the worker runs; it is SIGKILLed as soon as it has made progress on each."""
    publish(ns, first)
    worker = Worker(ns, tmp_path, f"w-{ns.name}").start()
    workers.append(worker)
    worker.wait_ready()
    for i, part in enumerate((first, second)):
        if i:
            publish(ns, part)
        while (done := ingested(ns)) <= (len(first) if i else 0):
            worker.assert_alive()
            time.sleep(0.1)
        worker.kill()
        print(f"SIGKILL with {done} of {len(first) + len(second)} records ingested", flush=True)
        worker.start()
    wait_drained(ns, [worker], timeout=600)
    return worker


def broker_refuses_then_takes(ns: Namespace, worker: Worker, third: list[Record]) -> None:
    """The broker refuses every person-events batch: the ingest stage fails on each attempt."""
    person_events_limit(ns, "64")
    try:
        publish(ns, third)
        body = wait_health(worker, "degraded", lambda code, b: code == 503 and b.get("status") == "degraded")
        failing = [x for x in body["problems"] if x["stage"] == "ingest"]
        assert failing and all(x["topic"] == ns.events and x["why"].startswith("failing") for x in failing), body
        assert wait_gauge(worker, failing[0]["partition"]), worker.tail()
    finally:
        person_events_limit(ns, None)
    wait_health(worker, "ready again", lambda code, b: code == 200 and b == {"status": "ready"})


def outputs_are_replays(ns: Namespace, worker: Worker, tmp_path: Path, reference: Any,
                        late_in_replay: set[str | None], lines: list[str]) -> None:
    # Every valid event processed: the flags and unit figures of replay.
    assert final_flags(ns) == replay_flags(reference)
    assert indicators_from_states(changelog_states(ns, "units")) == replay_indicators(reference)

    # Each rejected record has one letter (by key; a copy sent again after the kill or a failed attempt
    # has the same key), the oversized ones truncated with their size and hash.
    by_key: dict[bytes, list[dict[str, Any]]] = collections.defaultdict(list)
    for rec in read_records(ns.rejected):
        assert rec.key is not None, rec
        by_key[rec.key].append(json.loads(rec.value))
    reasons = collections.Counter(copies[0]["reason"] for copies in by_key.values())
    assert reasons == {k: v for k, v in reference.tally.rejected.items() if v}
    # an event the ingest stage sent on again after a kill is known by its place in its source, however
    # far the person's clock has moved since: a duplicate, not a second `too_late` letter
    late = {copies[0]["event_id"] for copies in by_key.values() if copies[0]["reason"] == "too_late"}
    assert late == late_in_replay
    big = {copies[0]["event_id"]: copies for copies in by_key.values() if copies[0]["reason"] == "too_large"}
    assert set(big) == set(BIG)
    for event_id, copies in big.items():
        assert all(c == copies[0] for c in copies)
        letter = copies[0]
        original = next(line for line in lines if f'"event_id": "{event_id}"' in line[:400]).encode()
        assert letter["original_truncated"] and letter["original_size"] == BIG[event_id] == len(original)
        assert letter["original_sha256"] == hashlib.sha256(original).hexdigest()
        assert len(letter["original_text"].encode()) == KEPT and original.decode().startswith(letter["original_text"])
    shown = subprocess.run([str(BIN / "outcome-monitor"), "flags", "--topic", ns.rejected, "--json"], cwd=ROOT,
                           env=ns.env(tmp_path, 0), capture_output=True, text=True, timeout=120, check=True)
    assert len(shown.stdout.splitlines()) == len(by_key)
    assert sum(v for k, v in worker.metrics().items() if k.startswith("outcome_dead_letters_lost_total")) == 0


def replay_too_late(path: Path) -> set[str | None]:
    monitor = Monitor(MonitorConfig(), Pseudonymiser(PSEUDONYM_KEY.encode()))
    now = dt.datetime.now(dt.UTC)
    results = [r for line in open_lines(path) for r in monitor.feed(line, now)] + monitor.finish()
    return {r.rejection.event_id for _, r in results
            if r.rejection is not None and r.rejection.reason.value == "too_late"}


def wait_gauge(worker: Worker, partition: int, timeout: float = 30) -> bool:
    """The gauge follows /health at the worker's next observation (every 5 s)."""
    labels = ('stage="ingest"', f'partition="{partition}"')
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(name.startswith("outcome_partition_stalled{") and all(x in name for x in labels) and value == 1
               for name, value in worker.metrics().items()):
            return True
        time.sleep(1.0)
    return False

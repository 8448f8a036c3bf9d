"""Real services for integration tests: the project's Kafka broker and worker processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError

ROOT = Path(__file__).resolve().parents[2]
BOOTSTRAP = os.environ.get("OUTCOME_MONITOR_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
BIN = Path(sys.executable).parent
PSEUDONYM_KEY = "integration-test-pseudonym-key-0001"


def broker_answers(timeout: float = 1.0) -> bool:
    host, port = BOOTSTRAP.split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except OSError:
        return False


def ensure_broker() -> None:
    """Start the project's broker unless one answers already (CI starts it before the tests)."""
    if not broker_answers():
        subprocess.run(["bash", str(ROOT / "scripts" / "kafka.sh"), "start"], check=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Namespace:
    """Topic names, group and env of one test's pipeline, so tests never see each other's data."""

    name: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:10]}")
    partitions: int = 4

    @property
    def events(self) -> str:
        return f"{self.name}.care.events"

    @property
    def rejected(self) -> str:
        return f"{self.name}.care.events.rejected"

    @property
    def flags(self) -> str:
        return f"{self.name}.outcome.flags"

    @property
    def internal(self) -> list[str]:
        return [f"{self.name}.person-events", f"{self.name}.unit-updates", f"{self.name}.day-summaries",
                f"{self.name}.programme-events"]  # the last only with programmes configured

    def env(self, data_dir: Path, port: int) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "OUTCOME_MONITOR_APP_ID": self.name,
            "OUTCOME_MONITOR_BOOTSTRAP_SERVERS": BOOTSTRAP,
            "OUTCOME_MONITOR_TOPICS__EVENTS": self.events,
            "OUTCOME_MONITOR_TOPICS__REJECTED": self.rejected,
            "OUTCOME_MONITOR_TOPICS__FLAGS": self.flags,
            "OUTCOME_MONITOR_TOPICS__PARTITIONS": str(self.partitions),
            "OUTCOME_MONITOR_WEB_PORT": str(port),
            "OUTCOME_MONITOR_DATA_DIR": str(data_dir),
            "OUTCOME_MONITOR_PSEUDONYM_KEY": PSEUDONYM_KEY,
        })
        return env


class Worker:
    def __init__(self, ns: Namespace, workdir: Path, label: str = "w1", **env: str) -> None:
        self.ns, self.port, self.extra_env = ns, free_port(), env
        self.data_dir = workdir / f"{label}-data"
        self.log_path = workdir / f"{label}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def command(self) -> tuple[list[str], Path]:
        """What starts the worker, and the directory it starts in."""
        return [str(BIN / "outcome-monitor"), "--log-level", "INFO", "worker"], ROOT

    def start(self) -> Worker:
        self.starts += 1
        log = self.log_path.open("ab")
        argv, cwd = self.command()
        self.proc = subprocess.Popen(argv, env={**self.ns.env(self.data_dir, self.port), **self.extra_env},
                                     stdout=log, stderr=subprocess.STDOUT, cwd=cwd, start_new_session=True)
        return self

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.assert_alive()
            try:
                with urllib.request.urlopen(self.url("/health"), timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"worker not ready in {timeout}s; log: {self.tail()}")

    def assert_alive(self) -> None:
        assert self.proc is not None
        code = self.proc.poll()
        assert code is None, f"worker exited with {code}; log: {self.tail()}"

    def metrics(self) -> dict[str, float]:
        with urllib.request.urlopen(self.url("/metrics"), timeout=5) as r:
            text = r.read().decode()
        out: dict[str, float] = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                out[name] = float(value)
        return out

    def debug_progress(self) -> dict[str, object]:
        with urllib.request.urlopen(self.url("/debug/progress"), timeout=5) as r:
            return dict(json.loads(r.read()))

    def consumed(self) -> float:
        return sum(v for k, v in self.metrics().items() if k.startswith("outcome_events_consumed_total"))

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=60)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill()

    def wait_log(self, text: str, timeout: float = 60) -> list[str]:
        """The log's lines once one contains `text` (a line a timer writes: it comes, but not at once)."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.log_path.read_text(errors="replace").splitlines() if self.log_path.exists() else []
            if any(text in line for line in lines):
                return lines
            self.assert_alive()
            if time.monotonic() > deadline:
                raise AssertionError(f"no log line with {text!r} in {timeout}s; log: {self.tail()}")
            time.sleep(0.5)

    def tail(self, n: int = 40) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])


def publish_raw(topic: str, records: Iterable[tuple[bytes | None, bytes, int | None]]) -> int:
    """A bare producer, as any other client would publish: (key, value, timestamp_ms)."""
    producer = KafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", max_request_size=4 * 1024 * 1024)
    n = 0
    for key, value, ts in records:
        producer.send(topic, key=key, value=value, timestamp_ms=ts)
        n += 1
    producer.flush()
    producer.close()
    return n


def publish_file(ns: Namespace, path: Path, *extra: str) -> str:
    result = subprocess.run([str(BIN / "outcome-monitor"), "publish", str(path), "--topic", ns.events,
                             "--bootstrap", BOOTSTRAP, *extra], capture_output=True, text=True,
                            env=ns.env(Path("/tmp"), 0), cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def end_offsets(topics: list[str]) -> dict[TopicPartition, int]:
    consumer = KafkaConsumer(bootstrap_servers=BOOTSTRAP)
    try:
        tps = [TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or ())]
        return dict(consumer.end_offsets(tps)) if tps else {}
    finally:
        consumer.close()


def positions(ns: Namespace) -> dict[tuple[str, int], int]:
    """Where the worker's agents stand (their own record of it, from the positions tables' changelogs):
    {(topic, partition): next offset to process}."""
    found: dict[tuple[str, int], int] = {}
    for table in ("positions", "org-positions", "programme-positions"):
        for key, value in read_topic(f"{ns.name}-{table}-changelog"):
            if key is not None and value is not None:
                _, topic, partition, _ = key.decode().split("/")
                found[(topic, int(partition))] = int(value)
    return found


def ingested(ns: Namespace) -> int:
    """Input records the ingest stage has processed (by its positions), over every partition."""
    return sum(v for (topic, _), v in positions(ns).items() if topic == ns.events)


def wait_drained(ns: Namespace, workers: list[Worker], timeout: float = 300) -> None:
    """Until every agent has processed every record of its input topics, the worker's own topics
    included (a position moves only after the outputs and states of what it covers are acknowledged)."""
    deadline = time.monotonic() + timeout
    behind: dict[str, int] = {}
    while time.monotonic() < deadline:
        for w in workers:
            w.assert_alive()
        try:
            done = positions(ns)  # first the positions, then the ends: what they caused is in the ends
            ends = end_offsets([ns.events, *ns.internal, ns.flags])
        except KafkaError:  # e.g. the broker restarting: ask again
            time.sleep(1.0)
            continue
        behind = {f"{tp.topic}/{tp.partition}": end - done.get((tp.topic, tp.partition), 0)
                  for tp, end in ends.items() if end > done.get((tp.topic, tp.partition), 0)}
        if not behind and ends:
            return
        time.sleep(1.0)
    raise AssertionError(f"not drained in {timeout}s, behind: {behind}")


def read_records(topic: str) -> list[ConsumerRecord]:
    """Every record of a topic, from the beginning to the end it had when asked."""
    ends = end_offsets([topic])
    consumer = KafkaConsumer(bootstrap_servers=BOOTSTRAP, enable_auto_commit=False,
                             auto_offset_reset="earliest", consumer_timeout_ms=10_000)
    consumer.assign(list(ends))
    consumer.seek_to_beginning()
    out: list[ConsumerRecord] = []
    remaining = {tp: end for tp, end in ends.items() if end > 0}
    try:
        while remaining:
            batch = consumer.poll(timeout_ms=2000)
            if not batch:
                break
            for tp, records in batch.items():
                for rec in records:
                    out.append(rec)
                    if rec.offset + 1 >= remaining.get(tp, 0):
                        remaining.pop(tp, None)
    finally:
        consumer.close()
    return out


def read_topic(topic: str) -> list[tuple[bytes | None, bytes]]:
    return [(rec.key, rec.value) for rec in read_records(topic)]


def final_flags(ns: Namespace) -> dict[str, dict[str, object]]:
    """What a flag store keeps: the last record per flag_id, withdrawn ones left out."""
    last: dict[str, dict[str, object]] = {}
    for _, value in read_topic(ns.flags):
        flag = json.loads(value)
        last[str(flag["flag_id"])] = flag
    return {k: v for k, v in last.items() if v["status"] == "raised"}


def changelog_states(ns: Namespace, table: str) -> dict[str, dict[str, object]]:
    last: dict[str, dict[str, object]] = {}
    for key, value in read_topic(f"{ns.name}-{table}-changelog"):
        if key is not None and value is not None:
            last[key.decode()] = json.loads(value)
    return last

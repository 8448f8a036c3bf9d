"""Backfill as an integration engineer does it, with a third-party client: a history of 18+ months and
100k+ events, every compression codec, already waiting or arriving live, through kills, a broker
restart, scaling and a saturated CPU: the flags and unit indicators are those of `replay`, every time."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from kafka.errors import KafkaError

from streams.core.monitor import Monitor
from streams.simulators.simulation import Scenario
from tests.integration.backfill import CODECS, Record, history_records, publish_confluent
from tests.integration.conftest import (
    indicators_from_states,
    replay_flags,
    replay_indicators,
    replayed,
    write_scenario,
)
from tests.integration.faults import FaultyWorker
from tests.integration.live import (
    ROOT,
    Namespace,
    Worker,
    changelog_states,
    final_flags,
    ingested,
    read_topic,
    wait_drained,
)

pytestmark = pytest.mark.integration

KAFKA = ["bash", str(ROOT / "scripts" / "kafka.sh")]
# A broker killed after its stop timeout recovers its logs on start, here on a CPU saturated on purpose
# and with every topic earlier tests left: it is given time to, rather than failing the run.
SLOW_START = {**os.environ, "KAFKA_START_TIMEOUT_S": "300"}


@pytest.fixture(scope="session")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~105k events over 19 months: every event type, late and duplicate reports, malformed lines; a
    workplace's sick leave and a care unit's ED visits and readmissions rise (unit flags of both kinds)."""
    scenario = Scenario(seed=31, days=570, units=10, care_persons=360, drift_unit=2, drift_onset_day=320,
                        drift_factor=2.5, malformed_lines=10, care_drift_unit=1, care_drift_onset_day=330)
    return write_scenario(tmp_path_factory.mktemp("history") / "history.jsonl", scenario)


@pytest.fixture(scope="session")
def history_lines(history: Path) -> list[Record]:
    records = history_records(history)
    assert len(records) >= 100_000
    return records


@pytest.fixture(scope="session")
def reference(history: Path) -> Monitor:
    return replayed(history)


def assert_same_as_replay(ns: Namespace, reference: Monitor) -> None:
    flags = final_flags(ns)
    expected = replay_flags(reference)
    assert set(flags) == set(expected), (f"{len(set(flags) - set(expected))} flags not in replay, "
                                         f"{len(set(expected) - set(flags))} replay flags missing")
    assert flags == expected
    assert indicators_from_states(changelog_states(ns, "units")) == replay_indicators(reference)


def test_every_codec_of_a_third_party_producer_gives_the_flags_of_replay(
    ns: Namespace, workers: list[Worker], tmp_path: Path, history_lines: list[Record], reference: Monitor
) -> None:
    worker = Worker(ns, tmp_path).start()
    workers.append(worker)
    worker.wait_ready()
    publish_confluent(ns.events, history_lines, CODECS)
    wait_drained(ns, workers, timeout=900)
    assert_same_as_replay(ns, reference)
    letters = [json.loads(v)["reason"] for _, v in read_topic(ns.rejected)]
    assert "invalid_arrival_header" not in letters
    assert letters.count("too_late") == reference.tally.rejected["too_late"]
    worker.assert_alive()
    assert worker.starts == 1


def test_a_history_already_in_the_topic_gives_the_flags_of_replay_without_rereads(
    ns: Namespace, workers: list[Worker], tmp_path: Path, history_lines: list[Record], reference: Monitor
) -> None:
    publish_confluent(ns.events, history_lines, ("lz4",))
    worker = Worker(ns, tmp_path).start()
    workers.append(worker)
    worker.wait_ready()
    wait_drained(ns, workers, timeout=900)
    assert_same_as_replay(ns, reference)
    # the progress line an engineer watches: at least "caught up" with what was worked off, even when the
    # history drained before the first 5-s report
    log = worker.wait_log("backlog:")
    # no warning at all (nothing processed is read again, nothing is lost), no error, no crash
    assert not [line for line in log if "[WARNING]" in line or "[ERROR]" in line or "[CRITICAL]" in line
                or "Traceback" in line], worker.tail()


def test_a_wrong_arrival_header_is_rejected_with_its_reason_and_good_records_flow(
    ns: Namespace, workers: list[Worker], tmp_path: Path
) -> None:
    import confluent_kafka

    from tests.integration.live import BOOTSTRAP

    worker = Worker(ns, tmp_path).start()
    workers.append(worker)
    worker.wait_ready()
    producer = confluent_kafka.Producer({"bootstrap.servers": BOOTSTRAP})
    base = {"event_type": "emergency_visit", "unit_id": "vc-1", "person_id": "pat-5",
            "occurred_at": "2025-03-01T10:00:00+01:00"}
    for i, header in enumerate([b"1740823200", b"1740823200.5", b"2025-03-01", b"1740823200000", b"soon"]):
        producer.produce(ns.events, key=b"pat-5", value=json.dumps({**base, "event_id": f"e{i}"}).encode(),
                         headers=[("om-arrival", header)])
    producer.flush(30)
    wait_drained(ns, workers)
    letters = [json.loads(v) for _, v in read_topic(ns.rejected)]
    assert sorted(d["event_id"] for d in letters) == ["e2", "e3", "e4"]
    assert {d["reason"] for d in letters} == {"invalid_arrival_header"}
    assert worker.metrics()['outcome_events_consumed_total{type="emergency_visit"}'] == 2


def test_a_defect_on_one_event_sends_it_to_the_dead_letter_topic_and_the_rest_flows(
    ns: Namespace, workers: list[Worker], tmp_path: Path, small_stream: Path
) -> None:
    lines = small_stream.read_text().splitlines()
    poison_line = next(i for i, line in enumerate(lines[200:], 200) if '"sick_leave"' in line)
    poison = json.loads(lines[poison_line])["event_id"]
    worker = FaultyWorker(ns, tmp_path, poison).start()
    workers.append(worker)
    worker.wait_ready()
    publish_confluent(ns.events, history_records(small_stream), ("zstd",))
    wait_drained(ns, workers)
    worker.assert_alive()
    assert worker.starts == 1
    failed = [d for d in (json.loads(v) for _, v in read_topic(ns.rejected)) if d["reason"] == "processing_failed"]
    assert [d["event_id"] for d in failed] == [poison]
    assert failed[0]["source_offset"].startswith(f"{ns.name}.person-events/")
    without = tmp_path / "without-poison.jsonl"
    without.write_text("\n".join(lines[:poison_line] + lines[poison_line + 1:]) + "\n")
    expected = replayed(without)
    assert final_flags(ns) == replay_flags(expected)
    assert indicators_from_states(changelog_states(ns, "units")) == replay_indicators(expected)


class Chaos:
    """Kills, a broker restart and scaling, each when the backfill has got so far (seeded moments)."""

    def __init__(self, ns: Namespace, tmp_path: Path, workers: list[Worker], total: int, seed: int) -> None:
        self.ns, self.tmp_path, self.workers, self.total = ns, tmp_path, workers, total
        rng = random.Random(seed)
        kills = sorted(rng.uniform(0.05, 0.9) for _ in range(5))
        self.plan: list[tuple[float, str]] = sorted(
            [(k, "kill") for k in kills] + [(rng.uniform(0.3, 0.5), "broker"), (rng.uniform(0.5, 0.6), "scale up"),
                                            (rng.uniform(0.7, 0.8), "scale down")])
        self.done: list[str] = []

    def first(self) -> Worker:
        return self.workers[0]

    def act(self, what: str) -> None:
        if what == "kill":
            self.first().kill(signal.SIGKILL)
            self.first().start()
        elif what == "broker":
            subprocess.run([*KAFKA, "stop"], check=True)
            time.sleep(2)
            subprocess.run([*KAFKA, "start"], check=True, env=SLOW_START)
        elif what == "scale up":
            second = Worker(self.ns, self.tmp_path, f"w{len(self.workers) + 1}").start()
            self.workers.append(second)
        elif what == "scale down":
            self.workers[-1].stop()
            self.workers.pop()
        self.done.append(what)

    def run(self) -> None:
        for at, what in self.plan:
            deadline = time.monotonic() + 900
            while True:
                assert time.monotonic() < deadline, f"no progress towards {at:.0%} before {what}; done {self.done}"
                for w in self.workers:
                    w.assert_alive()
                try:
                    if ingested(self.ns) >= at * self.total:
                        break
                except KafkaError:  # the broker restarting, or too busy to answer in time: ask again
                    pass
                time.sleep(0.5)
            self.act(what)
            print(f"chaos: {what} at {at:.0%} of the backfill", flush=True)
        assert self.done.count("kill") == 5 and "broker" in self.done and "scale down" in self.done


def run_chaos(tmp_path: Path, history_lines: list[Record], reference: Monitor, seed: int) -> None:
    ns = Namespace()
    workers: list[Worker] = []
    workdir = tmp_path / f"run{seed}"
    workdir.mkdir(exist_ok=True)
    try:
        workers.append(Worker(ns, workdir, "w1").start())
        workers[0].wait_ready()
        publisher = threading.Thread(target=publish_confluent, args=(ns.events, history_lines, CODECS))
        publisher.start()
        Chaos(ns, workdir, workers, len(history_lines), seed).run()
        publisher.join(timeout=900)
        wait_drained(ns, workers, timeout=900)
        assert_same_as_replay(ns, reference)
    finally:
        for w in workers:
            w.stop()


def test_backfill_through_kills_a_broker_restart_scaling_and_a_saturated_cpu_gives_replays_flags(
    tmp_path: Path, history_lines: list[Record], reference: Monitor
) -> None:
    assert shutil.which("stress-ng"), "Debian's stress-ng is needed (.ci/run and scripts/test.sh install it)"
    run_chaos(tmp_path, history_lines, reference, seed=1)
    stress = subprocess.Popen(["stress-ng", "--cpu", "2", "--timeout", "1800s", "--quiet"])
    try:
        run_chaos(tmp_path, history_lines, reference, seed=2)
    finally:
        stress.terminate()
        stress.wait(timeout=30)

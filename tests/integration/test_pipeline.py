"""The live pipeline against the real broker: same flags as replay, dead letters, crashes, scale-out."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from pathlib import Path

import pytest

from streams.agents.runtime.dead_letters import KEEP_BYTES
from streams.agents.runtime.partitioning import partition_of
from streams.core.org.groups import group_of
from streams.core.personnummer import redact
from streams.files.replay import write_flags
from tests.hostile_corpus import corpus, with_corpus
from tests.integration.conftest import (
    ORGANISATIONS,
    halves,
    indicators_from_states,
    replay_flags,
    replay_indicators,
    replayed,
)
from tests.integration.live import (
    ROOT,
    Namespace,
    Worker,
    changelog_states,
    final_flags,
    publish_file,
    publish_raw,
    read_topic,
    wait_drained,
)
from tests.unit.core.test_hostile_corpus import personnummer_in

pytestmark = pytest.mark.integration


def test_a_published_file_gives_the_same_flags_and_indicators_as_its_replay(
    ns: Namespace, workers: list[Worker], tmp_path: Path, small_stream: Path
) -> None:
    worker = Worker(ns, tmp_path).start()
    workers.append(worker)
    worker.wait_ready()
    out = publish_file(ns, small_stream)
    assert "invalid lines" in out  # publish reports, and does not send, the malformed lines
    wait_drained(ns, workers)
    reference = replayed(small_stream)
    flags = final_flags(ns)
    assert flags == replay_flags(reference)
    assert {f["rule"] for f in flags.values()} >= {"repeated_sick_leave", "long_sick_leave",
                                                   "readmission_30d", "unit_sick_leave_drift"}
    assert indicators_from_states(changelog_states(ns, "units")) == replay_indicators(reference)
    metrics = worker.metrics()
    assert metrics['outcome_events_rejected_total{field="occurred_at",reason="too_late"}'] == \
        reference.tally.rejected["too_late"]
    assert metrics["outcome_events_duplicate_total"] == reference.tally.duplicates


def test_events_from_any_client_without_keys_are_processed_the_same_way(
    ns: Namespace, workers: list[Worker], tmp_path: Path
) -> None:
    worker = Worker(ns, tmp_path).start()
    workers.append(worker)
    worker.wait_ready()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def ev(event_id: str, days_ago: float, **fields: object) -> bytes:
        body = {"event_id": event_id, "occurred_at": (now - dt.timedelta(days=days_ago)).isoformat(),
                "unit_id": "vc-1", "person_id": "pat-77", **fields}
        return json.dumps(body).encode()

    records = [
        ev("a1", 6, event_type="admission", stay_id="s1", planned=False),
        ev("d1", 4, event_type="discharge", stay_id="s1"),
        ev("a2", 1, event_type="admission", stay_id="s2", planned=False),
    ]
    publish_raw(ns.events, [(None, value, None) for value in records])  # no key, broker timestamps
    wait_drained(ns, workers)
    flags = list(final_flags(ns).values())
    assert [f["rule"] for f in flags] == ["readmission_30d"]
    assert "pat-77" not in json.dumps(flags)


def test_malformed_and_hostile_messages_go_to_the_dead_letter_topic_and_good_ones_flow(
    ns: Namespace, workers: list[Worker], tmp_path: Path
) -> None:
    worker = Worker(ns, tmp_path).start()
    workers.append(worker)
    worker.wait_ready()
    pid = worker.proc.pid if worker.proc else None
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    good = [json.dumps({"event_id": f"g{i}", "event_type": "emergency_visit", "unit_id": "vc-1",
                        "person_id": "pat-9", "occurred_at": (now - dt.timedelta(hours=i)).isoformat()}
                       ).encode() for i in range(4)]
    hostile: list[tuple[bytes, str]] = [
        (b"not json", "not_json"),
        (b"\xff\xfe\x00\x01", "not_json"),
        (b'{"event_type": "sick_leave", "event_id": "x\\u0000y"}', "missing_field"),
        (json.dumps({"event_id": "n1", "event_type": "sick_leave", "unit_id": "u\u0000",
                     "person_id": "p", "occurred_at": now.isoformat()}).encode(), "invalid_field"),
        (b'{"event_type": "staffing", "event_id": "h", "unit_id": "u", "headcount": "many", '
         b'"occurred_at": "2025-01-01T00:00:00Z"}', "invalid_field"),
        (json.dumps({"event_id": "big", "event_type": "enrollment", "unit_id": "u", "person_id": "p",
                     "program": "x" * 300_000, "occurred_at": now.isoformat()}).encode(), "too_large"),
        (json.dumps({"event_id": "pnr", "event_type": "emergency_visit", "unit_id": "u",
                     "person_id": "19811218-9876", "occurred_at": now.isoformat()}).encode(),
         "raw_personal_identity_number"),
        (b"[]", "not_an_object"),
        (b"", "not_json"),
    ]
    records: list[tuple[bytes | None, bytes, int | None]] = []
    for i, (value, _) in enumerate(hostile):
        records.append((b"k", value, None))
        if i < len(good):
            records.append((b"pat-9", good[i], None))
    publish_raw(ns.events, records)
    # a message on one of the worker's own topics that it cannot read (as another version might leave)
    internal = [(None, b'{"events": "not a list"}', None), (None, b"\x00garbage", None)]
    publish_raw(f"{ns.name}.person-events", internal)
    publish_raw(f"{ns.name}.unit-updates", internal[:1])
    wait_drained(ns, workers)

    letters = [json.loads(v) for _, v in read_topic(ns.rejected)]
    inside = [d for d in letters if d["reason"] == "unreadable_internal_message"]
    letters = [d for d in letters if d not in inside]
    assert sorted(d["reason"] for d in letters) == sorted(reason for _, reason in hostile)
    assert all(d["message"] and d["source_offset"].startswith(ns.events) for d in letters)
    assert sorted(d["source_offset"].rsplit("/", 2)[0] for d in inside) == [
        f"{ns.name}.person-events"] * 2 + [f"{ns.name}.unit-updates"]
    assert any(d["original_base64"] for d in letters)  # bytes that are not UTF-8 are kept too
    assert [f["rule"] for f in final_flags(ns).values()] == ["frequent_emergency_visits"]
    worker.assert_alive()
    assert worker.proc is not None and worker.proc.pid == pid and worker.starts == 1
    # what an operator sees on /debug/progress: every input partition assigned and processed to its end
    snapshot = worker.debug_progress()
    ingest = snapshot["agents"]["ingest"]  # type: ignore[index]
    assert sorted(ingest["partitions"]) == [str(p) for p in range(ns.partitions)]
    assert all(part["lag"] == 0 for part in ingest["partitions"].values())
    assert "pat-9" not in json.dumps(snapshot)


def test_sigkill_mid_stream_then_restart_loses_nothing(
    ns: Namespace, workers: list[Worker], tmp_path: Path, big_stream: Path
) -> None:
    lines = sum(1 for _ in big_stream.open())
    assert lines >= 50_000
    publish_file(ns, big_stream)
    worker = Worker(ns, tmp_path).start()
    workers.append(worker)
    worker.wait_ready()
    deadline = time.monotonic() + 300
    while worker.consumed() < lines * 0.4:
        assert time.monotonic() < deadline, "the worker did not get through 40% of the stream"
        time.sleep(0.2)
    worker.kill(signal.SIGKILL)
    worker.start()
    worker.wait_ready()
    wait_drained(ns, workers, timeout=300)
    reference = replayed(big_stream)
    assert indicators_from_states(changelog_states(ns, "units")) == replay_indicators(reference)
    assert final_flags(ns) == replay_flags(reference)


def test_two_workers_in_one_group_give_the_same_flags_as_one(
    ns: Namespace, workers: list[Worker], tmp_path: Path, organisations_stream: Path
) -> None:
    """Its units in three organisations: each a peer group of its own, in a partition of its own."""
    first, second = Worker(ns, tmp_path, "w1").start(), Worker(ns, tmp_path, "w2").start()
    workers += [first, second]
    first.wait_ready()
    second.wait_ready()
    publish_file(ns, organisations_stream)
    wait_drained(ns, workers)
    assert final_flags(ns) == replay_flags(replayed(organisations_stream))
    assert first.consumed() > 0 and second.consumed() > 0  # both did part of the work
    groups = {key for key, _ in read_topic(f"{ns.name}-org-changelog") if key is not None and b"\x1f" not in key}
    assert groups == {group_of(o).encode() for o in ORGANISATIONS}
    assert len({partition_of(g.decode(), ns.partitions) for g in groups}) == 3


def test_the_worker_survives_a_broker_restart_without_losing_events(
    ns: Namespace, workers: list[Worker], tmp_path: Path, small_stream: Path
) -> None:
    worker = Worker(ns, tmp_path).start()
    workers.append(worker)
    worker.wait_ready()
    first, second = halves(small_stream, tmp_path)
    publish_file(ns, first)
    kafka = ["bash", str(ROOT / "scripts" / "kafka.sh")]
    subprocess.run([*kafka, "stop"], check=True)
    time.sleep(3)
    subprocess.run([*kafka, "start"], check=True, env={**os.environ, "KAFKA_START_TIMEOUT_S": "300"})
    publish_file(ns, second)
    wait_drained(ns, workers, timeout=600)
    worker.assert_alive()
    assert final_flags(ns) == replay_flags(replayed(small_stream))


def kept(line: str) -> str:
    """A line as its dead letter keeps it: redacted; over the limit, its first bytes
    (agents/runtime/dead_letters.py)."""
    text = redact(line)
    return text if len(line.encode()) <= KEEP_BYTES else text.encode()[:KEEP_BYTES].decode("utf-8", "ignore")


def test_the_hostile_corpus_published_live_is_rejected_line_by_line_and_no_personnummer_leaves(
    ns: Namespace, workers: list[Worker], tmp_path: Path, small_stream: Path
) -> None:
    base = small_stream.read_text().splitlines()
    hostile = corpus(base)
    path = tmp_path / "hostile.jsonl"
    path.write_text("\n".join(with_corpus(base, hostile)) + "\n")
    worker = Worker(ns, tmp_path).start()
    workers.append(worker)
    worker.wait_ready()
    publish_file(ns, path, "--send-invalid")  # as a careless sender would: every line goes to Kafka
    wait_drained(ns, workers)

    reference = replayed(small_stream)  # the clean stream
    assert final_flags(ns) == replay_flags(reference)
    letters = [json.loads(v) for _, v in read_topic(ns.rejected)]
    got = sorted((d["original_text"], d["reason"]) for d in letters)
    expected_hostile = sorted((kept(line), reason) for line, reason in hostile)
    assert [pair for pair in expected_hostile if pair not in got] == []
    assert len(letters) == len(hostile) + sum(reference.tally.rejected.values())
    worker.assert_alive()
    assert worker.starts == 1

    # nothing the monitor writes or shows holds a personnummer from the corpus
    written = [value.decode("utf-8", "replace") for topic in [ns.rejected, ns.flags, *ns.internal]
               for _, value in read_topic(topic)]
    with urllib.request.urlopen(worker.url("/metrics"), timeout=5) as r:
        written.append(r.read().decode())
    written.append(json.dumps(worker.debug_progress()))
    written.append(worker.tail(100_000))  # the worker's log at INFO
    assert personnummer_in("\n".join(written)) == []
    # faust's own views of tables and internals are off: only what the README documents is served
    for path_ in ("/router/", "/table/", "/graph/", "/stats/", "/performance/"):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(worker.url(path_), timeout=5)
        assert err.value.code == 404, path_


def test_retractions_and_conflicting_duplicates_give_the_same_flags_live_as_in_replay(
    ns: Namespace, workers: list[Worker], tmp_path: Path, small_stream: Path
) -> None:
    lines = small_stream.read_text().splitlines()
    events = [(i, json.loads(line)) for i, line in enumerate(lines) if line.startswith("{")]
    persons = [(i, d) for i, d in events if "person_id" in d and "event_id" in d and "occurred_at" in d]
    corrected = list(lines)
    # every 40th person event is retracted a few lines later; every 97th comes again with other content
    for k, (i, doc) in enumerate(persons[::40]):
        retraction = {"event_id": f"retract-{k}", "event_type": "retraction", "occurred_at": doc["occurred_at"],
                      "unit_id": doc["unit_id"], "person_id": doc["person_id"], "retracts": doc["event_id"],
                      "retracted_occurred_at": doc["occurred_at"]}
        corrected.insert(min(i + 5 + k, len(corrected)), json.dumps(retraction))
    for _, doc in persons[::97]:
        corrected.append(json.dumps({**doc, "unit_id": doc["unit_id"] + "-other"}))
    path = tmp_path / "corrected.jsonl"
    path.write_text("\n".join(corrected) + "\n")
    reference = replayed(path)
    assert reference.tally.rejected["conflicting_duplicate"] > 0
    worker = Worker(ns, tmp_path).start()
    workers.append(worker)
    worker.wait_ready()
    publish_file(ns, path)
    wait_drained(ns, workers)
    assert final_flags(ns) == replay_flags(reference)
    letters = [json.loads(v)["reason"] for _, v in read_topic(ns.rejected)]
    assert letters.count("conflicting_duplicate") == reference.tally.rejected["conflicting_duplicate"]
    # replay --flags-out is the flag stream the worker sent: every version of every person flag, withdrawals
    # with their reasons, in the same order per flag (a record re-sent after a restart counted once). A unit
    # flag's last version is the worker's; its intermediate ones follow how the organisation stage batched,
    # so a unit flag raised and withdrawn again while late data came in may be in one stream only.
    with (tmp_path / "flags.jsonl").open("w") as fh:
        write_flags(reference, fh)
    replay_stream = versions_by_flag((tmp_path / "flags.jsonl").read_text().splitlines())
    live_stream = versions_by_flag(v.decode() for _, v in read_topic(ns.flags))
    assert {k: v for k, v in live_stream.items() if v[0]["subject_kind"] == "person"} == \
        {k: v for k, v in replay_stream.items() if v[0]["subject_kind"] == "person"}
    in_one = {k: (live_stream.get(k) or replay_stream[k])[-1] for k in live_stream.keys() ^ replay_stream.keys()}
    assert {k: (f["subject_kind"], f["status"]) for k, f in in_one.items()} == \
        {k: ("unit", "withdrawn") for k in in_one}
    both = live_stream.keys() & replay_stream.keys()
    assert {k: live_stream[k][-1] for k in both} == {k: replay_stream[k][-1] for k in both}
    reasons = {f.get("withdrawn_because") for versions in replay_stream.values() for f in versions}
    assert "retraction" in reasons


def versions_by_flag(records: Iterable[str]) -> dict[str, list[dict[str, object]]]:
    """The versions of each flag in order, a version repeated right after itself counted once."""
    out: dict[str, list[dict[str, object]]] = {}
    for record in records:
        flag = json.loads(record)
        versions = out.setdefault(str(flag["flag_id"]), [])
        if not versions or versions[-1] != flag:
            versions.append(flag)
    return out

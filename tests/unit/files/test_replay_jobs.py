"""`replay --jobs N` writes what `replay` writes, byte for byte: the persons' stages run in N processes,
sharded by person, and the clock, the units and the organisation in one (files/sharded.py)."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import random
from pathlib import Path

import pytest

from streams.cli import main
from streams.simulators.simulation import Scenario, generate
from tests.unit.files.test_sample_golden import GOLDEN, SAMPLE

OUTPUTS = ("flags.jsonl", "rejects.jsonl", "indicators.json")


def _replay(events: Path, out: Path, jobs: int) -> dict[str, bytes]:
    out.mkdir()
    code = main(["replay", str(events), "--demo-key", "--quiet", "--jobs", str(jobs),
                 "--flags-out", str(out / "flags.jsonl"), "--rejects-out", str(out / "rejects.jsonl"),
                 "--indicators-out", str(out / "indicators.json")])
    assert code == 0
    return {name: (out / name).read_bytes() for name in OUTPUTS}


def test_the_sample_in_two_shards_gives_the_recorded_outputs_of_one_process(tmp_path: Path) -> None:
    # The digests are those of `replay` in one process (test_sample_golden.py holds it to them).
    expected = dict(reversed(line.split()) for line in GOLDEN.read_text().splitlines() if line.strip())
    outputs = _replay(SAMPLE, tmp_path / "two", 2)
    assert {name: hashlib.sha256(outputs[name]).hexdigest() for name in expected} == expected


def test_a_program_with_threads_starts_its_shards_from_a_server_and_gets_the_same_outputs(tmp_path: Path) -> None:
    # A process running only this thread forks its shards; one with another thread alive must not (a
    # fork copies locks that thread may hold) and starts them from a forkserver instead.
    import threading

    from streams.files.sharded import _shard_context

    assert _shard_context().get_start_method() == "fork"
    expected = dict(reversed(line.split()) for line in GOLDEN.read_text().splitlines() if line.strip())
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        assert _shard_context().get_start_method() == "forkserver"
        outputs = _replay(SAMPLE, tmp_path / "served", 2)
    finally:
        stop.set()
        other.join()
    assert {name: hashlib.sha256(outputs[name]).hexdigest() for name in expected} == expected


def test_a_replay_that_fails_stops_its_shards_and_leaves_the_callers_collector_as_it_was(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gc
    import multiprocessing
    import threading

    from streams.files import sharded

    def failing(*args: object) -> None:
        raise RuntimeError("the units failed")

    monkeypatch.setattr(sharded, "_results", failing)
    threads = threading.active_count()
    gc.freeze()  # a program that froze its own objects before calling
    frozen = gc.get_freeze_count()
    try:
        with pytest.raises(RuntimeError, match="the units failed"):
            _replay(SAMPLE, tmp_path / "failed", 2)
        # still frozen, and nothing frozen anew (a frozen object freed meanwhile lowers the count by one:
        # the last CI run saw 455,482 of 455,483, so the count is bounded, not compared for equality)
        assert 0 < gc.get_freeze_count() <= frozen
    finally:
        gc.unfreeze()
    assert multiprocessing.active_children() == []
    assert threading.active_count() == threads


def test_a_replay_with_its_output_closed_still_runs_in_shards(tmp_path: Path) -> None:
    # Python sets sys.stdout to None when its descriptor is closed; the shards' start must not need it.
    import os
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "streams.cli", "replay", str(SAMPLE), "--demo-key", "--quiet",
                           "--jobs", "2", "--flags-out", str(tmp_path / "flags.jsonl")],
                          preexec_fn=lambda: os.close(1), capture_output=False, stderr=subprocess.PIPE,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "flags.jsonl").read_text()


def _shuffled_history(seed: int, organisations: bool = False) -> list[str]:
    """A simulated history as a careless source sends it: events out of order within the allowed lateness,
    some days late, some retracted (before or after they come), person ids spelt with JSON escapes (the
    same person either way), a stray line a year ahead, duplicates and malformed lines."""
    rng = random.Random(seed)
    scenario = Scenario(start=dt.date(2025, 1, 1), days=150, seed=seed, units=3, care_units=2, care_persons=80,
                        late_share=0.01, duplicate_share=0.01, malformed_lines=8)
    lines = [line for _, line in generate(scenario)]
    out: list[str] = []
    for n, line in enumerate(lines):
        doc = json.loads(line) if line.startswith("{") else None
        if organisations and isinstance(doc, dict) and isinstance(doc.get("unit_id"), str):
            # the units in peer groups: a workplace and a care unit in each of two organisations, the rest in none
            group = {"hr-unit-00": 0, "care-unit-00": 0, "hr-unit-01": 1, "care-unit-01": 1}.get(doc["unit_id"])
            if group is not None:
                doc["organisation"] = ("212000-0142", "212000-1355")[group]
                line = json.dumps(doc, separators=(",", ":"))
        if isinstance(doc, dict) and isinstance(doc.get("person_id"), str):
            if rng.random() < 0.03:  # retracted: the retraction comes a little before or after it
                retraction = json.dumps({
                    "event_id": f"retract-{n}", "event_type": "retraction", "unit_id": doc["unit_id"],
                    "person_id": doc["person_id"], "retracts": doc["event_id"],
                    "retracted_occurred_at": doc["occurred_at"], "occurred_at": doc["occurred_at"]})
                out.insert(max(0, len(out) - rng.randrange(0, 30)) if rng.random() < 0.3 else len(out),
                           retraction)
            if rng.random() < 0.05:  # the same person, its key or its id spelt with a JSON escape
                pid = doc["person_id"]
                line = (line.replace('"person_id":', '"person\\u005fid":', 1) if rng.random() < 0.5 else
                        line.replace(f'"person_id":"{pid}"', f'"person_id":"\\u{ord(pid[0]):04x}{pid[1:]}"', 1))
        out.append(line)
    for _ in range(len(out) // 20):  # out of order within the allowed lateness
        i = rng.randrange(len(out) - 40)
        j = i + rng.randrange(1, 40)
        out[i], out[j] = out[j], out[i]
    for _ in range(len(out) // 300):  # weeks late
        i = rng.randrange(len(out) // 2)
        out.insert(min(len(out), i + rng.randrange(3000, 6000)), out.pop(i))
    stray = json.loads(next(line for line in lines if '"emergency_visit"' in line))
    stray.update(event_id="stray-ahead", occurred_at="2026-01-05T10:00:00+01:00")
    out.insert(len(out) // 2, json.dumps(stray))
    out.insert(len(out) // 3, '{"event_id":"two-ids","event_type":"emergency_visit","unit_id":"care-unit-00",'
                              '"person_id":"pat-00001","person_id":"pat-00002",'
                              '"occurred_at":"2025-03-01T10:00:00+01:00"}')
    return out


def _summary(capsys: pytest.CaptureFixture[str]) -> list[str]:
    """What replay printed, but for its elapsed time."""
    return [line for line in capsys.readouterr().out.splitlines() if not line.startswith("elapsed")]


def test_a_shuffled_history_with_retractions_in_three_shards_equals_one_process(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for seed in (3, 4):  # two histories: a difference in either fails; the second's units in peer groups
        events = tmp_path / f"history-{seed}.jsonl.gz"
        with gzip.open(events, "wt") as fh:
            fh.write("\n".join(_shuffled_history(seed, organisations=seed == 4)) + "\n")
        one = _replay(events, tmp_path / f"one-{seed}", 1)
        summary = _summary(capsys)
        three = _replay(events, tmp_path / f"three-{seed}", 3)
        assert _summary(capsys) == summary
        rejected = [json.loads(line)["reason"] for line in one["rejects.jsonl"].splitlines()]
        assert "too_late" in rejected and one["flags.jsonl"], rejected
        for name in OUTPUTS:
            assert three[name] == one[name], f"{name} differs for seed {seed}"


def test_a_programme_with_survey_answers_in_two_shards_gives_the_figures_of_one_process(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Enrolments make programme ledgers in the shards (their order must survive the merge) and survey
    # answers go to the programmes' one store in the main process with their times.
    import dataclasses

    from streams.core.monitor import Monitor
    from streams.core.pseudonym import Pseudonymiser
    from streams.files.replay import run
    from streams.simulators.programme_scenarios import SCENARIOS, write
    from streams.simulators.programme_scenarios import run as simulate
    from tests.unit.simulators.test_programme_scenarios import _config

    scenario = dataclasses.replace(SCENARIOS["care"], units=2, persons_per_unit=120, enrol_probability=0.05)
    simulated = simulate(scenario, surveys=True)
    assert simulated.enrolled and simulated.survey_answers
    events = tmp_path / "care.jsonl"
    write(simulated, str(events))
    figures: dict[int, bytes] = {}
    for jobs in (1, 2):
        monitor = Monitor(_config("care"), Pseudonymiser(b"a test key, not the demo key, 32+ b"))
        out = tmp_path / f"figures-{jobs}.json"
        assert run(monitor, events, None, None, None, quiet=True, programmes_out=out, jobs=jobs) == 0
        figures[jobs] = out.read_bytes()
    document = json.loads(figures[1])
    assert "enrolled" in figures[1].decode() and "at_or_above" in figures[1].decode(), list(document)
    assert figures[2] == figures[1]
    capsys.readouterr()

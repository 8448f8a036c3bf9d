"""The wire contract files, the layering of the code, and `outcome-monitor replay` as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from streams import schemas
from streams.cli import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "streams" / "sample" / "events.jsonl.gz"


def test_schemas_directory_matches_the_models() -> None:
    assert schemas.stale() == [], "run `outcome-monitor schemas` and commit schemas/"


def test_schema_check_notices_a_stale_file(tmp_path: Path) -> None:
    schemas.write(tmp_path)
    assert schemas.stale(tmp_path) == []
    (tmp_path / "flag.schema.json").write_text("{}")
    assert schemas.stale(tmp_path) == ["flag.schema.json"]


def test_the_core_imports_no_kafka_faust_http_or_prometheus() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_replay_of_the_bundled_sample_writes_flags_rejects_and_indicators(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    flags, rejects, indicators = tmp_path / "f.jsonl", tmp_path / "r.jsonl", tmp_path / "i.json"
    code = main(["replay", str(SAMPLE), "--demo-key", "--flags-out", str(flags), "--rejects-out", str(rejects),
                 "--indicators-out", str(indicators), "--quiet"])
    assert code == 0
    out = capsys.readouterr().out
    assert "events read" in out and "events/s" in out and "too_late" in out
    rules = {json.loads(line)["rule"] for line in flags.read_text().splitlines()}
    assert {"repeated_sick_leave", "long_sick_leave", "frequent_emergency_visits", "readmission_30d",
            "unit_sick_leave_drift"} <= rules
    reasons = {json.loads(line)["reason"] for line in rejects.read_text().splitlines()}
    assert {"not_json", "too_late", "raw_personal_identity_number"} <= reasons
    doc = json.loads(indicators.read_text())
    assert doc["units"] and all("sick_leave_rate_28d" in u for u in doc["units"])
    assert "emp-" not in flags.read_text() + indicators.read_text()


def test_replay_of_a_file_of_garbage_exits_0_and_says_what_it_rejected(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"nope\n\x00\x01\n[]\n{}\n")
    assert main(["replay", str(bad), "--quiet", "--demo-key"]) == 0
    out = capsys.readouterr().out
    assert "not_json" in out and "not_an_object" in out


def test_replay_of_a_missing_file_says_so(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["replay", str(tmp_path / "nope.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["worker"], ["replay", str(SAMPLE)]])
def test_the_public_demo_key_is_refused_outside_a_demo_with_a_message_saying_how_to_set_one(
        command: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("OUTCOME_MONITOR_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("OUTCOME_MONITOR_ALLOW_DEMO_KEY", raising=False)
    assert main(command) == 2
    err = capsys.readouterr().err
    assert "OUTCOME_MONITOR_PSEUDONYM_KEY" in err and "openssl rand" in err


def test_replay_runs_with_a_key_of_ones_own(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OUTCOME_MONITOR_PSEUDONYM_KEY", "a-secret-key-of-the-deployment-0123456789")
    line = ('{"event_id":"e1","event_type":"emergency_visit","occurred_at":"2025-01-06T08:00:00+01:00",'
            '"unit_id":"u","person_id":"p1"}\n')
    (tmp_path / "e.jsonl").write_text(line)
    assert main(["replay", str(tmp_path / "e.jsonl"), "--quiet"]) == 0

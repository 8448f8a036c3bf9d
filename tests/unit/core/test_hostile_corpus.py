"""The hostile corpus replayed: no crash, each line rejected for its documented reason, everything else
as in the clean run, and no personnummer in anything `replay` writes (issue 12's acceptance; the same
corpus goes through Kafka and the worker in tests/integration/test_pipeline.py)."""

from __future__ import annotations

import gzip
import json
import logging
import re
from pathlib import Path

import pytest

from streams.cli import main
from tests.hostile_corpus import PNRS, corpus, with_corpus

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "streams" / "sample" / "events.jsonl.gz"


def personnummer_in(text: str) -> list[str]:
    digits_only = {re.sub(r"\D", "", p) for p in PNRS}
    return [p for p in PNRS if p in text] + [d for d in digits_only if d in re.sub(r"[-+ ]", "", text)]


def replay(path: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    out.mkdir()
    code = main(["replay", str(path), "--demo-key", "--flags-out", str(out / "flags.jsonl"),
                 "--rejects-out", str(out / "rejects.jsonl"), "--indicators-out", str(out / "indicators.json")])
    assert code == 0
    written = {name: (out / name).read_text() for name in ("flags.jsonl", "rejects.jsonl", "indicators.json")}
    captured = capsys.readouterr()
    written["stdout"], written["stderr"] = captured.out, captured.err
    return written


def test_hostile_lines_are_rejected_for_their_reason_and_change_nothing_else(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    base = gzip.decompress(SAMPLE.read_bytes()).decode().splitlines()
    hostile = corpus(base)
    lines = with_corpus(base, hostile)
    (tmp_path / "clean.jsonl").write_text("\n".join(base) + "\n")
    (tmp_path / "hostile.jsonl").write_text("\n".join(lines) + "\n")
    clean = replay(tmp_path / "clean.jsonl", tmp_path / "clean", capsys)
    dirty = replay(tmp_path / "hostile.jsonl", tmp_path / "dirty", capsys)

    expected = {line: reason for line, reason in hostile}
    rejected_hostile: dict[str, str] = {}
    rejected_other: list[str] = []
    for row in map(json.loads, dirty["rejects.jsonl"].splitlines()):
        line = lines[int(row["source_offset"].rsplit(":", 1)[1]) - 1]
        if line in expected:
            rejected_hostile[line] = row["reason"]
        else:
            rejected_other.append(row["reason"])
    assert rejected_hostile == expected
    assert sorted(rejected_other) == sorted(json.loads(r)["reason"] for r in clean["rejects.jsonl"].splitlines())
    assert dirty["flags.jsonl"] == clean["flags.jsonl"]
    assert dirty["indicators.json"] == clean["indicators.json"]

    everything = "\n".join(dirty.values()) + caplog.text
    everything += "".join(p.read_text() for p in (ROOT / "grafana" / "dashboards").glob("*.json"))
    assert personnummer_in(everything) == []
    assert personnummer_in("\n".join(line for line, _ in hostile)), "the corpus must hold the numbers looked for"

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.core.config import MonitorConfig
from streams.core.monitor import Monitor
from streams.core.pseudonym import Pseudonymiser
from streams.core.unit.indicators import unit_indicators
from streams.core.unit.tracker import UnitState
from streams.files.lines import open_lines
from streams.simulators.simulation import Scenario, generate
from tests.integration.live import PSEUDONYM_KEY, Namespace, Worker, ensure_broker
from tests.integration.prom import Prometheus

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session", autouse=True)
def kafka() -> None:
    ensure_broker()


@pytest.fixture
def ns() -> Namespace:
    return Namespace()


@pytest.fixture
def prometheus_for(tmp_path: Path) -> Iterator[list[Prometheus]]:
    """Prometheus servers a test starts (tests/integration/prom.py), stopped after it."""
    started: list[Prometheus] = []
    yield started
    for p in started:
        p.stop()


@pytest.fixture
def workers(ns: Namespace, tmp_path: Path) -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for w in started:
        w.stop()


def write_scenario(path: Path, scenario: Scenario) -> Path:
    with path.open("w") as fh:
        for _, line in generate(scenario):
            fh.write(line + "\n")
    return path


@pytest.fixture(scope="session")
def small_stream(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~14k events over 200 days with every rule firing, malformed lines and late reports included."""
    scenario = Scenario(seed=21, days=200, units=5, care_persons=90, drift_unit=1, drift_onset_day=110,
                        drift_factor=3.0, malformed_lines=6)
    return write_scenario(tmp_path_factory.mktemp("streams") / "small.jsonl", scenario)


#: Made-up organisationsnummer; `small_stream`'s units spread over them in `organisations_stream`.
ORGANISATIONS = ("212000-0142", "212000-1355", "212000-0076")


@pytest.fixture(scope="session")
def organisations_stream(small_stream: Path) -> Path:
    """`small_stream` with its units in three organisations (peer groups): hr-unit-00..02 of the first, the
    other workplaces of the second, the care units of the third; every event of a unit names it."""
    out = []
    for line in small_stream.read_text().splitlines():
        doc = json.loads(line) if line.startswith("{") else None
        if isinstance(doc, dict) and isinstance(doc.get("unit_id"), str):
            unit = doc["unit_id"]
            doc["organisation"] = ORGANISATIONS[2 if unit.startswith("care") else 0 if unit < "hr-unit-03" else 1]
            line = json.dumps(doc)
        out.append(line)
    path = small_stream.with_name("organisations.jsonl")
    path.write_text("\n".join(out) + "\n")
    return path


@pytest.fixture(scope="session")
def big_stream(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """>= 50k events for the crash test."""
    scenario = Scenario(seed=22, days=300, units=8, care_persons=360, drift_unit=2, drift_onset_day=180,
                        drift_factor=2.5, malformed_lines=10)
    return write_scenario(tmp_path_factory.mktemp("streams") / "big.jsonl", scenario)


def halves(path: Path, into: Path) -> tuple[Path, Path]:
    """The file's lines in two files, the first half and the rest."""
    lines = path.read_text().splitlines()
    first, second = into / "first.jsonl", into / "second.jsonl"
    first.write_text("\n".join(lines[: len(lines) // 2]) + "\n")
    second.write_text("\n".join(lines[len(lines) // 2:]) + "\n")
    return first, second


def replayed(path: Path) -> Monitor:
    monitor = Monitor(MonitorConfig(), Pseudonymiser(PSEUDONYM_KEY.encode()))
    now = dt.datetime.now(dt.UTC)
    for line in open_lines(path):
        monitor.process(line, now)
    monitor.finish()
    return monitor


def replay_flags(monitor: Monitor) -> dict[str, dict[str, object]]:
    return {f.flag_id: f.model_dump(mode="json") for f in monitor.open_flags()}


def indicators_from_states(states: dict[str, dict[str, object]]) -> dict[str, str]:
    config = MonitorConfig()
    return {k: json.dumps(unit_indicators(UnitState.from_dict(v), config).as_dict(), sort_keys=True)
            for k, v in states.items()}


def replay_indicators(monitor: Monitor) -> dict[str, str]:
    return {i.unit_id: json.dumps(i.as_dict(), sort_keys=True) for i in monitor.unit_indicators()}

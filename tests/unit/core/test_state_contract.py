"""One contract over every stateful piece (person rules, unit figures, drift, each detector): state
round-trips through its serialised form and resumes identically, is bounded, and nothing is shared."""

from __future__ import annotations

import json
import random

import pytest
from pydantic import ValidationError

from streams.agents.runtime.codec import dumps, loads_dict
from streams.core.config import DriftConfig, MonitorConfig, RuleConfig
from streams.core.monitor import Monitor
from streams.core.org.detectors import Cusum, DriftDetector, PageHinkley, detector_from_dict
from streams.core.org.state import OrgState
from streams.core.person.tracker import PersonState
from streams.core.unit.tracker import UnitState
from streams.simulators.simulation import Scenario, generate
from tests.helpers import NOW, monitor, run, sick_days

CONFIG = MonitorConfig(drift=DriftConfig(warmup_weeks=4))


def through_json(m: Monitor) -> None:
    """What a restart does: every table value leaves as the worker writes it (its codec) and comes back."""
    m.persons = {k: PersonState.from_dict(loads_dict(dumps(v))) for k, v in m.persons.items()}
    m.units = {k: UnitState.from_dict(loads_dict(dumps(v))) for k, v in m.units.items()}
    m.org = OrgState.from_dict(loads_dict(dumps(m.org)))


def outcome(m: Monitor) -> tuple[list[str], list[str]]:
    return ([f.model_dump_json() for f in m.open_flags()],
            [json.dumps(i.as_dict(), sort_keys=True) for i in m.unit_indicators()])


@pytest.fixture(scope="module")
def stream() -> list[str]:
    sc = Scenario(seed=11, days=240, units=5, care_persons=80, drift_unit=1, drift_onset_day=120,
                  drift_factor=3.0, malformed_lines=5)
    return [line for _, line in generate(sc)]


def test_every_stage_resumes_identically_from_its_serialised_state(stream: list[str]) -> None:
    reference = run(stream, CONFIG)
    assert any(f.rule.value == "unit_sick_leave_drift" for f in reference.open_flags())
    resumed = monitor(CONFIG)
    for i, line in enumerate(stream):
        if i % 997 == 0:
            through_json(resumed)
        resumed.process(line, NOW)
    assert outcome(resumed) == outcome(reference)


def test_the_same_input_gives_the_same_output(stream: list[str]) -> None:
    assert outcome(run(stream, CONFIG)) == outcome(run(stream, CONFIG))


def test_person_state_stays_small_and_bounded_over_years() -> None:
    rng = random.Random(1)
    days = sorted(rng.sample(range(0, 3 * 365), 120))
    m = run(sick_days(days))
    (state,) = m.persons.values()
    size = len(json.dumps(state.to_dict()))
    assert size < 6000, size
    assert len(state.checkpoint.occasions) <= 40  # only occasions a 365-day window still needs
    assert all(f.t >= state.clock - 7 * 86400 for f in state.pending)


def test_unit_state_forgets_days_beyond_retention() -> None:
    m = run(sick_days(list(range(0, 900, 3))))
    unit = m.units["unit-a"]
    assert max(unit.days) - min(unit.days) <= CONFIG.retention_days


@pytest.mark.parametrize("make", [lambda: Cusum(1.75, 5.0), lambda: PageHinkley(1.75, 5.0)])
def test_detector_state_round_trips_and_resumes_identically(make: object) -> None:
    rng = random.Random(2)
    series = [(rng.choice([1, 2, 3, 4, 9]), 2.5) for _ in range(80)]
    whole: DriftDetector = make()  # type: ignore[operator]
    steps = [whole.update(o, e, 1.2) for o, e in series]
    resumed: DriftDetector = make()  # type: ignore[operator]
    got = []
    for i, (o, e) in enumerate(series):
        if i % 7 == 0:
            resumed = detector_from_dict(json.loads(json.dumps(resumed.to_dict())))
        got.append(resumed.update(o, e, 1.2))
    assert got == steps
    assert any(s.alarm for s in steps), "the series must make the detector decide something"


@pytest.mark.parametrize("make", [lambda: Cusum(1.75, 5.0), lambda: PageHinkley(1.75, 5.0)])
def test_detectors_share_no_state_and_clone_starts_fresh(make: object) -> None:
    a: DriftDetector = make()  # type: ignore[operator]
    b: DriftDetector = make()  # type: ignore[operator]
    for _ in range(10):
        a.update(10, 1, 1)
    assert b.to_dict() == make().to_dict()  # type: ignore[operator]
    fresh = a.clone()
    assert fresh.to_dict() == b.to_dict()
    assert (fresh.shift, fresh.threshold) == (a.shift, a.threshold)


def test_configuration_is_frozen_and_defaults_are_not_shared() -> None:
    config = MonitorConfig()
    with pytest.raises(ValidationError):
        config.allowed_lateness_days = 1  # type: ignore[misc]
    with pytest.raises(ValidationError):
        RuleConfig(repeated_sick_leave_occasions=0)
    assert MonitorConfig().rules is not None and MonitorConfig().rules == RuleConfig()
    s1, s2 = PersonState(), PersonState()
    s1.pending.append(None)  # type: ignore[arg-type]
    assert s2.pending == []


def test_an_unknown_state_version_is_refused_not_misread() -> None:
    data = PersonState().to_dict()
    data["version"] = 99
    with pytest.raises(ValueError, match="version"):
        PersonState.from_dict(data)

"""One contract over every registered drift detector (river's `check_estimator` in our terms): its state
is versioned plain JSON, resuming from it mid-stream is the uninterrupted run, reading a state does not
change it, a clone starts fresh, and its decisions on seeded streams are the recorded ones."""

from __future__ import annotations

import copy
import json
import random

import pytest

from streams.core.org.detectors import DETECTORS, DriftDetector, detector_from_dict

KINDS = sorted(DETECTORS)
# The alarms (period indices) of each detector at its defaults on `_stream(7)`: a change of these is a
# change of behaviour, to be made deliberately.
AFTER_CHANGE = [83, 84, 85, 86, 87, 88, 89, 91, 92, 93, 94, 95, 97, 98, 102, 103, 104, 105, 106, 107, 108, 109,
                110, 112, 113, 114, 115, 118, 119]
GOLDEN = {
    "cusum": [55, 60, 61, 65, *AFTER_CHANGE],
    "nb_cusum": [61, 65, *AFTER_CHANGE],
    "page_hinkley": [53, 83, 105],
}


def _stream(seed: int) -> list[tuple[float, float, float]]:
    """80 periods in control, then 40 at twice the expected count, overdispersed throughout."""
    rng = random.Random(seed)
    out = []
    for i in range(120):
        expected = rng.uniform(2.0, 6.0)
        mean = expected * (2.0 if i >= 80 else 1.0) * rng.choice([0.5, 1.0, 1.0, 1.5])
        out.append((float(sum(rng.random() < mean / 50 for _ in range(50))), expected, 1.3))
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_state_is_versioned_plain_json_and_an_unknown_version_is_refused(kind: str) -> None:
    detector = DETECTORS[kind]()
    d = detector.to_dict()
    assert d["kind"] == kind and d["version"] == DETECTORS[kind].state_version
    assert json.loads(json.dumps(d, allow_nan=False)) == d
    with pytest.raises(ValueError, match="version"):
        detector_from_dict({**d, "version": 999})


@pytest.mark.parametrize("kind", KINDS)
def test_resuming_from_json_mid_stream_is_the_uninterrupted_run(kind: str) -> None:
    stream = _stream(3)
    whole = DETECTORS[kind]()
    steps = [whole.update(*x) for x in stream]
    for every in (1, 5, 13):
        resumed: DriftDetector = DETECTORS[kind]()
        got = []
        for i, x in enumerate(stream):
            if i % every == 0:
                resumed = detector_from_dict(json.loads(json.dumps(resumed.to_dict())))
            got.append(resumed.update(*x))
        assert got == steps
    assert any(s.alarm for s in steps), "the stream must make the detector decide something"


@pytest.mark.parametrize("kind", KINDS)
def test_reading_and_writing_a_state_mutates_nothing_and_a_clone_starts_fresh(kind: str) -> None:
    detector = DETECTORS[kind](shift=2.0, threshold=4.0)
    for x in _stream(5)[:90]:
        detector.update(*x)
    d = detector.to_dict()
    kept = copy.deepcopy(d)
    again = detector_from_dict(d)
    assert d == kept and again.to_dict() == d
    d["threshold"] = 99.0  # a dict handed out is the caller's: the detector does not see its changes
    assert detector.to_dict() == kept
    fresh = detector.clone()
    assert (fresh.shift, fresh.threshold) == (2.0, 4.0)
    assert fresh.to_dict() == DETECTORS[kind](shift=2.0, threshold=4.0).to_dict()


@pytest.mark.parametrize("kind", KINDS)
def test_decisions_on_a_seeded_stream_are_the_recorded_ones(kind: str) -> None:
    detector = DETECTORS[kind]()
    alarms = [i for i, x in enumerate(_stream(7)) if detector.update(*x).alarm]
    assert alarms == GOLDEN[kind]

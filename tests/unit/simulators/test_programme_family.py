"""The emulated-trial estimator on the scenario family (mechanisms drawn per seed, truth known): its interval
holds the sample's truth and its placebo holds 0 on a right design, and the placebo fails on a design that
draws references from persons never eligible. The full table over >= 50 seeds per setting is `make
programme-eval` (BENCHMARKS.md); this runs a few fixed seeds."""

from __future__ import annotations

import pytest

from benchmarks.programme_eval import one
from streams.simulators.programme_family import Setting


@pytest.mark.parametrize(("kind", "rate_ratio", "seed"), [("care", 0.5, 0), ("care", 1.0, 1), ("hr", 0.8, 2)])
def test_the_interval_holds_the_truth_and_the_placebo_holds_zero(kind: str, rate_ratio: float, seed: int) -> None:
    res = one(Setting(kind, rate_ratio), seed)
    primary = res.outcomes[0]
    assert primary.low <= primary.truth <= primary.high, primary
    assert res.placebo_holds_zero and res.reliable and res.usable_share >= 0.8


@pytest.mark.parametrize(("kind", "seed"), [("care", 0), ("hr", 1)])
def test_references_never_eligible_make_the_placebo_fail(kind: str, seed: int) -> None:
    res = one(Setting(kind, 1.0), seed, references="never_eligible")
    assert res.placebo_holds_zero is False and not res.reliable

"""The relative effect is a ratio of what the members had to what they would have had, and a ratio of two
unbiased estimates is not unbiased: a noisy counterfactual in the denominator makes a programme without
effect look harmful on average (by about the counterfactual's squared relative error). The relative figure
takes off that second-order bias, priced by the bootstrap replicates' variance and covariance."""

from __future__ import annotations

import numpy as np

from streams.core.programme.trial_effect import relative


def draws(seed: int, n: int, cv_had: float, cv_would: float) -> tuple[np.ndarray, np.ndarray, np.random.Generator]:
    """n samples of what the members had and an unbiased, independent estimate of what they would have had,
    both with mean 100 (no effect: the truth is 0)."""
    rng = np.random.default_rng(seed)
    had = rng.gamma(1 / cv_had**2, 100 * cv_had**2, n)
    would = rng.gamma(1 / cv_would**2, 100 * cv_would**2, n)
    return had, would, rng


def replicates(rng: np.random.Generator, had: float, would: float, cv_had: float, cv_would: float
               ) -> tuple[np.ndarray, np.ndarray]:
    """A bootstrap's replicates around the sample: the same relative spread as the sampling."""
    return (had * rng.gamma(1 / cv_had**2, cv_had**2, 200), would * rng.gamma(1 / cv_would**2, cv_would**2, 200))


def test_a_noisy_counterfactual_makes_no_effect_look_harmful_and_the_correction_takes_it_off() -> None:
    cv_had, cv_would = 0.15, 0.25
    had, would, rng = draws(3, 1500, cv_had, cv_would)
    plain, corrected = [], []
    for y, c in zip(had, would, strict=True):
        yb, cb = replicates(rng, y, c, cv_had, cv_would)
        plain.append(relative(y, c, yb, cb, correct=False))
        corrected.append(relative(y, c, yb, cb))
    lean_plain = np.mean([f.value for f in plain])
    assert lean_plain > 0.045  # about cv_would^2 = 0.0625 toward harm
    assert abs(np.mean([f.value for f in corrected])) < lean_plain / 4  # what is left is of a higher order
    # the plain intervals miss mostly on the side of harm; the corrected ones less often there, not more overall
    harm_plain, harm = np.mean([f.low > 0 for f in plain]), np.mean([f.low > 0 for f in corrected])
    assert harm_plain > 0.045 and harm < 0.04
    assert np.mean([not f.contains(0) for f in corrected]) <= np.mean([not f.contains(0) for f in plain])
    assert all(f.contains(f.value) for f in corrected)


def test_without_spread_in_the_replicates_nothing_is_taken_off() -> None:
    flat = np.full(50, 80.0)
    assert relative(100.0, 80.0, flat * 1.25, flat).value == 100.0 / 80.0 - 1
    assert relative(100.0, 80.0, np.linspace(90, 110, 50), np.linspace(70, 90, 50), correct=False).value == 0.25


def test_a_replicate_moving_had_and_would_together_is_not_a_bias() -> None:
    """Member weights move both had and would-have-had (a member counted twice brings both): a spread that is
    only that, had / would constant across replicates, leaves the ratio unbiased."""
    scale = np.linspace(0.8, 1.2, 101)
    assert abs(relative(120.0, 100.0, 120.0 * scale, 100.0 * scale).value - 0.2) < 1e-12


def test_a_counterfactual_too_uncertain_for_a_series_gives_a_figure_within_its_range() -> None:
    """References with almost none of the outcome: the counterfactual's replicates spread over orders of
    magnitude. A subtracted second-order term would cross -100%; the figure stays a relative effect."""
    rng = np.random.default_rng(5)
    would_b = rng.gamma(0.3, 2.0 / 0.3, 400)
    had_b = 100.0 * rng.gamma(50, 1 / 50, 400)
    f = relative(100.0, 2.0, had_b, would_b)
    assert -1.0 <= f.low <= f.value <= f.high
    assert f.value > 0  # still a large harm: 100 against about 2

"""The emulated trial's estimator on small shapes built by hand, where the bias it must not have is plain.

Censoring: references are censored on their own later enrolment, and those who are enrolled later are the
ones whose outcomes rose after the trial's day. Left as it is, the references still followed are the
healthier ones and a programme without effect looks harmful; the censoring weights restore the mix.

The bias correction's slopes, refitted in every bootstrap replicate with the replicate's person weights,
are the slopes a plain weighted least-squares fit gives on the same pairs (the sums written out in
`correction.py` are the within-trial centring, not an approximation of it)."""

from __future__ import annotations

import numpy as np
import pytest

from streams.core.programme.correction import Pairs, replicate_slopes, slopes
from streams.core.programme.days import NEVER, DayTable
from streams.core.programme.month_totals import ED_VISITS
from streams.core.programme.months import month_of_day
from streams.core.programme.trial import Design, Enrolment, TrialConfig, build
from streams.core.programme.trial_effect import fit

DAY0, DAYS, D = 739_000, 220, 739_100  # the trial's day: day 100 of the table
FOLLOW = 90


def shape() -> DayTable:
    """40 members enrolled on D and 80 references, all with the same history (one visit three days before
    D). Half of each arm 'rise' (a visit a day from D + 10 on), the rest have none; of the references who
    rise, half are enrolled themselves between D + 15 and D + 34, one a day. Nothing is done to anyone:
    the members would have had what they had, and the truth is 0."""
    rise = [True] * 20 + [False] * 20 + [True] * 40 + [False] * 40
    enrol = [D] * 40 + [D + 15 + k if k < 20 else NEVER for k in range(40)] + [NEVER] * 40
    daily = np.zeros((len(rise), DAYS + 1))
    daily[:, D - 3 - DAY0 + 1] = 1.0
    for i, r in enumerate(rise):
        if r:
            daily[i, D + 10 - DAY0 + 1: D + 120 - DAY0 + 1] = 1.0
    n = len(rise)
    months = month_of_day(DAY0 + DAYS - 1) - month_of_day(DAY0) + 1
    return DayTable([f"p{i:03d}" for i in range(n)], (ED_VISITS,), DAY0, DAYS, {ED_VISITS: np.cumsum(daily, axis=1)},
                    np.full(n, DAY0 - 365), np.full(n, DAY0 + DAYS - 1), np.array(enrol, dtype=np.int64),
                    month_of_day(DAY0), np.zeros((n, months), dtype=np.int64), ["u0"])


def effect(weights: bool) -> float:
    tb = shape()
    cfg = TrialConfig(neighbours=100, bootstrap=50, censoring_weights=weights)
    trials = build(tb, Design((ED_VISITS,), 90, FOLLOW), [Enrolment.of(tb, i, FOLLOW) for i in range(40)], cfg)
    assert len(trials.members) == 40 and all(len(r) == 80 for r in trials.refs)
    e = fit(trials, ED_VISITS, {"all": None})["all"]
    assert e is not None
    return e.relative.value


def test_references_censored_on_their_later_enrolment_bias_the_effect_toward_harm_without_weights() -> None:
    assert effect(weights=False) > 0.15


def test_censoring_weights_restore_the_references_mix() -> None:
    biased, weighted = effect(weights=False), effect(weights=True)
    # the daily hazard is modelled on the history alone (not on the day), so a little is left
    assert abs(weighted) < 0.1, weighted
    assert abs(weighted) < abs(biased) / 4, (weighted, biased)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_replicate_slopes_are_a_weighted_least_squares_fit_within_trials(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_pairs, f = 60, 3
    trial = np.sort(rng.integers(0, 8, n_pairs))
    x = rng.normal(size=(n_pairs, f))
    days = rng.uniform(10, 90, n_pairs)
    rate = x @ np.array([0.3, -0.2, 0.1]) + rng.normal(0, 0.1, n_pairs)
    p = Pairs(np.arange(n_pairs), trial, x, rate, days, x.std(axis=0))
    weights = rng.poisson(1.0, (5, n_pairs)).astype(float)
    got = replicate_slopes(p, weights, ridge=0.0)
    for b in range(len(weights)):
        w = weights[b] * days
        xc, rc = x.copy(), rate.copy()
        for t in np.unique(trial):
            k = trial == t
            if w[k].sum() > 0:
                xc[k] -= (w[k, None] * x[k]).sum(axis=0) / w[k].sum()
                rc[k] -= (w[k] * rate[k]).sum() / w[k].sum()
        want = np.linalg.solve((xc * w[:, None]).T @ xc, (xc * w[:, None]).T @ rc)
        assert np.allclose(got[b], want, atol=1e-8)
    assert np.allclose(slopes(p, 0.0), replicate_slopes(p, np.ones((1, n_pairs)), 0.0)[0])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_history_the_same_for_every_reference_up_to_rounding_has_no_slope(seed: int) -> None:
    """A feature equal for all (log 2: one visit before, say) spreads only by the rounding of how it was
    summed, which differs from CPU to CPU; its slope is none, not that rounding standardised to ~1e16."""
    from streams.core.programme.correction import pairs

    rng = np.random.default_rng(seed)
    n_pairs = 80
    e_trial = np.sort(rng.integers(0, 8, n_pairs))
    same = np.full(n_pairs, np.log(2.0))
    rounded = same.copy()
    nudged = rng.random(n_pairs) < 0.5
    rounded[nudged] = np.nextafter(same[nudged], 1.0)  # one unit in the last place apart
    other = rng.normal(size=n_pairs)
    y_e, t_e = rng.poisson(2.0, n_pairs).astype(float), rng.uniform(10, 90, n_pairs)
    weights = rng.poisson(1.0, (20, n_pairs)).astype(float)

    def fitted(first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pr = pairs(e_trial, np.arange(n_pairs), np.stack([first, other], axis=1), y_e, t_e, n_pairs)
        return slopes(pr, 0.01), replicate_slopes(pr, weights[:, pr.row], 0.01)

    (exact, exact_b), (got, got_b) = fitted(same), fitted(rounded)
    assert np.allclose(got, exact, atol=1e-9) and np.allclose(got_b, exact_b, atol=1e-9)
    assert np.abs(got_b[:, 0]).max() < 1e-6

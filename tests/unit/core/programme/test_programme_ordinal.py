"""Ordinal survey statistics (issue 15) on examples that can be checked by hand."""

from __future__ import annotations

import pytest

from streams.core.programme.ordinal import OrdinalScale, compare, distribution, share_at_or_above

SCALE = OrdinalScale("three", ("low", "mid", "high"))


def test_distribution_median_and_share() -> None:
    answers = ["low"] * 6 + ["mid"] * 3 + ["high"] * 2
    d = distribution(SCALE, answers)
    assert d is not None
    assert d.n == 11 and d.counts == (6, 3, 2)
    assert d.shares == pytest.approx((6 / 11, 3 / 11, 2 / 11))
    assert d.median == "low"  # 6 of 11 answers are at "low": half is reached there
    assert share_at_or_above(SCALE, answers, "mid") == pytest.approx(5 / 11)


def test_median_is_the_level_where_half_is_reached() -> None:
    d = distribution(SCALE, ["low"] * 5 + ["mid"] + ["high"] * 5, min_group_size=1)
    assert d is not None and d.median == "mid"
    d = distribution(SCALE, ["low"] * 5 + ["high"] * 5, min_group_size=1)
    assert d is not None and d.median == "low"  # the lower median: no mean of two levels


def test_probability_of_superiority_by_hand() -> None:
    # pairs (x, y): (mid, low) 1, (mid, mid) 0.5, (high, low) 1, (high, mid) 1 -> 3.5 / 4
    c = compare(SCALE, ["mid", "high"], ["low", "mid"], min_group_size=1, bootstrap=200)
    assert c is not None
    assert c.superiority.value == pytest.approx(0.875)
    assert c.mann_whitney_u == pytest.approx(3.5)
    assert c.superiority.low <= 0.875 <= c.superiority.high


def test_identical_groups_are_even() -> None:
    answers = ["low"] * 4 + ["mid"] * 5 + ["high"] * 3
    c = compare(SCALE, answers, answers)
    assert c is not None and c.superiority.value == pytest.approx(0.5) and c.p_value == pytest.approx(1.0)


def test_rank_test_agrees_with_scipy() -> None:
    from scipy.stats import mannwhitneyu

    x = ["low"] * 3 + ["mid"] * 6 + ["high"] * 9
    y = ["low"] * 8 + ["mid"] * 7 + ["high"] * 3
    c = compare(SCALE, x, y)
    assert c is not None
    ref = mannwhitneyu([SCALE.rank(v) for v in x], [SCALE.rank(v) for v in y], alternative="two-sided",
                       method="asymptotic", use_continuity=False)
    assert c.mann_whitney_u == pytest.approx(ref.statistic)
    assert c.p_value == pytest.approx(ref.pvalue)
    assert c.superiority.low < c.superiority.value < c.superiority.high
    assert c.superiority.low > 0.5  # x is clearly higher


def test_the_interval_is_seeded() -> None:
    x, y = ["mid"] * 12, ["low"] * 6 + ["high"] * 6
    assert compare(SCALE, x, y) == compare(SCALE, x, y)


def test_ten_or_fewer_answers_are_not_shown() -> None:
    assert distribution(SCALE, ["low"] * 10) is None
    assert compare(SCALE, ["low"] * 10, ["mid"] * 20) is None
    assert compare(SCALE, ["low"] * 11, ["mid"] * 11) is not None

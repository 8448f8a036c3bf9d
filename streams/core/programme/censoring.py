"""Inverse-probability-of-censoring weights for the references of emulated trials (`trial.py`).

A reference is censored on the day they are enrolled themselves. Who is enrolled later is not chosen at
random: a person whose outcomes keep rising after the trial's day stays (or becomes again) eligible and is
offered the programme, so the references still followed are the ones who got better, and their rate
understates what the members would have had without the programme: a bias toward harm.

Each reference-day is weighted by the inverse of the probability of having remained unenrolled since the
trial's day, given the reference's own history (Robins & Finkelstein 2000; Hernán & Robins, *Causal
Inference: What If*, ch. 12 and 22). The daily hazard of enrolment is a pooled logistic model over every
reference's days at risk (a person-day is counted once, whichever trials it belongs to), on the matched
outcomes over the 7, 8-30 and 31-90 days before the day and whether the person met the declared rule that
day. Weights are capped at `max_weight` so that a few improbable survivors cannot carry a trial.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from streams.core.programme.days import DayTable

HAZARD_WINDOWS = ((0, 7), (7, 30), (30, 90))  # days before the day t: [t - 7, t), [t - 30, t - 7), [t - 90, t - 30)
_SPAN = 1 << 24  # key = row * _SPAN + day offset: days of a table fit far below it


def _features(table: DayTable, match_on: Sequence[str], rule: Sequence[tuple[str, float, int]],
              rows: np.ndarray, days: np.ndarray) -> np.ndarray:
    cols = [np.ones(len(rows))]
    for measure in match_on:
        for near, far in HAZARD_WINDOWS:
            cols.append(np.log1p(np.maximum(table.window(measure, days - far, days - near, rows), 0.0)))
    if rule:
        ok = np.zeros(len(rows), dtype=bool)
        for measure, at_least, n in rule:
            ok |= table.window(measure, days - n, days, rows) >= at_least - 1e-9
        cols.append(ok.astype(float))
    return np.stack(cols, axis=1)


def _logistic(x: np.ndarray, y: np.ndarray, ridge: float = 1e-3, steps: int = 25) -> np.ndarray:
    """Newton's method for a logistic regression with a small ridge (not on the intercept), on standardised
    columns; returns the fitted probabilities."""
    mu = x.mean(axis=0)
    sd = x.std(axis=0)
    mu[0], sd[0] = 0.0, 1.0
    sd[sd <= 0] = 1.0
    z = (x - mu) / sd
    pen = np.full(z.shape[1], ridge * len(y))
    pen[0] = 0.0
    base = min(max(y.mean(), 1e-9), 1 - 1e-9)
    b = np.zeros(z.shape[1])
    b[0] = np.log(base / (1 - base))
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ b, -30, 30)))
        g = z.T @ (y - p) - pen * b
        h = (z * (p * (1 - p))[:, None]).T @ z + np.diag(pen) + 1e-9 * np.eye(len(b))
        step = np.linalg.solve(h, g)
        b += step
        if np.abs(step).max() < 1e-8:
            break
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z @ b, -30, 30))))


def censoring_weights(table: DayTable, match_on: Sequence[str], rule: Sequence[tuple[str, float, int]],
                      rows: np.ndarray, start: np.ndarray, stop: np.ndarray, censor: np.ndarray,
                      days_row: np.ndarray, days_day: np.ndarray, days_start: np.ndarray,
                      max_weight: float) -> np.ndarray:
    """Per reference follow-up k (`rows[k]` followed over [start[k], stop[k]), censored on `censor[k]` when
    it is < the uncensored stop, else `censor[k]` >= stop[k]) its days at risk of enrolment (start, stop]
    (the last only when it is the censoring day). Returns the weight of each outcome day given as
    (`days_row`, `days_day`, `days_start`: the day of its follow-up's start), 1 on a follow-up's first day."""
    n_days = np.maximum(stop - start, 0)  # outcome days; hazard days are start + 1 .. stop - 1, + stop if censored
    event = censor == stop
    n_risk = np.maximum(n_days - 1, 0) + event
    if not n_risk.sum():
        return np.ones(len(days_row))
    span = np.repeat(np.arange(len(rows)), n_risk)
    offset = np.arange(len(span)) - np.repeat(np.cumsum(n_risk) - n_risk, n_risk)
    r_row, r_day = rows[span], start[span] + 1 + offset
    key, first = np.unique(r_row.astype(np.int64) * _SPAN + (r_day - table.day0), return_index=True)
    u_row, u_day = r_row[first], r_day[first]
    y = (u_day == table.enrol[u_row]).astype(float)
    if not y.any():
        return np.ones(len(days_row))
    p = _logistic(_features(table, match_on, rule, u_row, u_day), y)
    prefix = np.cumsum(-np.log1p(-np.minimum(p, 1 - 1e-6)))

    def upto(row: np.ndarray, day: np.ndarray) -> np.ndarray:
        i = np.searchsorted(key, row.astype(np.int64) * _SPAN + (day - table.day0), side="right") - 1
        return np.where(i >= 0, prefix[np.maximum(i, 0)], 0.0)

    log_w = upto(days_row, days_day) - upto(days_row, days_start)
    return np.asarray(np.minimum(np.exp(log_w), max_weight))

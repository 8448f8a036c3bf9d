"""The bias correction of the emulated trials' matching (Abadie & Imbens 2011): what is left of the difference
in history between a member and their references is priced by the slopes of the references' rate on their
history, within trials, weighted by days at risk.

The slopes are fitted on the same references whose rates make the counterfactual, so their uncertainty is
part of the estimate's: the bootstrap refits them in every replicate (`replicate_slopes`) with the
replicate's person weights. Where the members' history differs much from their references', a correction
held fixed made the interval too narrow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: A feature whose within-trial spread is below this share of its largest absolute value (or of 1, if that is
#: smaller) has none: it is rounding.
NO_SPREAD = 1e-9


@dataclass(frozen=True, slots=True)
class Pairs:
    """Per (trial, reference): the reference's row, trial, history, rate and (weighted) days at risk; trial-major."""

    row: np.ndarray
    trial: np.ndarray
    x: np.ndarray
    rate: np.ndarray
    days: np.ndarray
    sd: np.ndarray  # per feature: the days-weighted within-trial standard deviation


def pairs(e_trial: np.ndarray, e_row: np.ndarray, e_x: np.ndarray, y_e: np.ndarray, t_e: np.ndarray,
          persons: int) -> Pairs:
    key = e_trial * (persons + 1) + e_row
    uniq, inv = np.unique(key, return_inverse=True)
    y = np.bincount(inv, weights=y_e)
    t = np.bincount(inv, weights=t_e)
    first = np.zeros(len(uniq), dtype=np.int64)
    first[inv[::-1]] = np.arange(len(inv))[::-1]
    x, tr = e_x[first], e_trial[first]
    n = int(tr.max()) + 1 if len(tr) else 0
    wsum = np.maximum(np.bincount(tr, weights=t, minlength=n), 1e-9)
    xm = np.stack([np.bincount(tr, weights=t * x[:, j], minlength=n) for j in range(x.shape[1])], axis=1) \
        / wsum[:, None]
    sd = np.sqrt((t[:, None] * (x - xm[tr]) ** 2).sum(axis=0) / max(t.sum(), 1e-9))
    # A history the same for every reference of each trial has no slope to fit. Its spread comes out as
    # rounding (~1e-16 of the value, or exactly 0, depending on the CPU's summation), which standardised
    # the feature by ~1e16 and made slopes of ~1e16 that the rounding in each member's difference then
    # priced at whole events (a no-effect programme read as -80% on one machine, +38% on another).
    sd[sd <= NO_SPREAD * np.maximum(np.abs(x).max(axis=0, initial=0.0), 1.0)] = 1.0
    return Pairs(e_row[first], tr, x, y / np.maximum(t, 1.0), t, sd)


def slopes(p: Pairs, ridge: float) -> np.ndarray:
    """The slopes fitted on the sample (the point estimate's)."""
    return replicate_slopes(p, np.ones((1, len(p.row))), ridge)[0]


def replicate_slopes(p: Pairs, weights: np.ndarray, ridge: float) -> np.ndarray:
    """(replicates, features): the slopes refitted with each replicate's weight per pair (rows of `weights`).
    Within-trial centring is written out as sums, so every replicate is a few matrix products."""
    f = p.x.shape[1]
    if not len(p.row) or f == 0:
        return np.zeros((len(weights), f))
    xs = p.x / p.sd
    t = weights * p.days  # (B, pairs)
    starts = np.flatnonzero(np.r_[True, p.trial[1:] != p.trial[:-1]])
    s = np.maximum(np.add.reduceat(t, starts, axis=1), 1e-12)  # (B, trials)
    sx = np.stack([np.add.reduceat(t * xs[:, j], starts, axis=1) for j in range(f)], axis=2)  # (B, trials, f)
    sr = np.add.reduceat(t * p.rate, starts, axis=1)
    xx = (xs[:, :, None] * xs[:, None, :]).reshape(len(xs), f * f)
    a = (t @ xx).reshape(-1, f, f) - np.einsum("bgi,bgj->bij", sx / s[:, :, None], sx)
    a += (ridge * t.sum(axis=1))[:, None, None] * np.eye(f)
    c = t @ (xs * p.rate[:, None]) - np.einsum("bgi,bg->bi", sx / s[:, :, None], sr)
    return np.asarray(np.linalg.solve(a + 1e-12 * np.eye(f), c[:, :, None])[:, :, 0] / p.sd)

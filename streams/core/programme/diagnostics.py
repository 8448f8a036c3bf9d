"""What a reader needs to judge an emulated trial's effect, because bias does not show in the effect itself:

- a placebo: the same estimator at pseudo-enrolments, one per real enrolment (same day, same unit), of
  persons who met the same eligibility that day and were not enrolled then (censored on a later enrolment,
  like references). Nothing was done to them, so its
  interval must hold 0; when it does not, the comparison itself is biased (references unlike the members).
- the before-trajectories of members and their references, 30-day block by block before the enrolment day,
  and the standardised difference of their before-levels.
- the share of members with a usable reference (an eligible person of their unit on their day).

`reliable` is False, with the reasons in words, when the placebo's interval excludes 0, when fewer than
`min_usable_share` of the members have a reference, or when the before-levels differ by more than
`max_balance` standard deviations: then the report's headline says the effect is not reliable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from streams.core.programme.trial import Enrolment, Figure, Trials, build, candidates, eligible
from streams.core.programme.trial_effect import fit

BLOCKS = 6  # 30-day blocks before enrolment shown
PSEUDO_PER_MEMBER = 2  # more pseudo-members than members: a placebo that can see a bias of the design


@dataclass(frozen=True, slots=True)
class Diagnostics:
    measure: str
    rule: str | None  # the declared eligibility rule, in words; None: none declared (a weaker comparison)
    usable_share: float
    members: int  # members with a follow-up day
    placebo: Figure | None  # relative effect at pseudo-enrolments; None: too few to try
    placebo_trials: int
    trajectory_members: tuple[float, ...]  # per 30-day block before enrolment (oldest first), per person
    trajectory_references: tuple[float, ...]
    balance: float | None  # standardised difference of the before-levels (members - references)
    reliable: bool
    reasons: tuple[str, ...]


def pseudo_enrolments(trials: Trials, seed: int, per_member: int = PSEUDO_PER_MEMBER) -> list[Enrolment]:
    """Per real trial, up to `per_member` persons eligible like its member that day, in its unit, never
    enrolled (each at most once)."""
    tb, design = trials.table, trials.design
    rng = np.random.default_rng(seed)
    # not enrolled by the day, and censored on their own enrolment like any reference: choosing among those
    # never enrolled would choose on the future (fewer later spells, fewer offers)
    free = np.ones(tb.persons, dtype=bool)
    out = []
    for e in trials.members:
        units = tb.unit_at(e.day)
        rows = candidates(tb, e.day)
        rows = rows[free[rows] & (units[rows] == units[e.row])]
        if design.rule and len(rows):
            status = eligible(tb, design.rule, e.day, np.array([e.row]))[0]
            rows = rows[eligible(tb, design.rule, e.day, rows) == status]
        if not len(rows):
            continue
        for r in rng.choice(rows, min(per_member, len(rows)), replace=False):
            free[r] = False
            out.append(Enrolment(int(r), e.day, min(e.stop, int(tb.end[r]) + 1, int(tb.enrol[r]))))
    return out


def diagnose(trials: Trials, measure: str, min_group: int = 11) -> Diagnostics:
    cfg, tb, design = trials.cfg, trials.table, trials.design
    placebo: Figure | None = None
    pseudo = pseudo_enrolments(trials, cfg.seed + 1)
    n_placebo = 0
    if len(pseudo) >= min_group:
        p_trials = build(tb, design, pseudo, cfg)
        n_placebo = len(p_trials.members)
        effect = fit(p_trials, measure, {"all": None})["all"] if n_placebo >= min_group else None
        placebo = effect.relative if effect is not None else None
    mem, ref = _trajectories(trials, measure)
    balance = _balance(trials, measure)
    reasons = []
    if placebo is not None and placebo.excludes_zero():
        reasons.append(f"the placebo (pseudo-enrolments of eligible persons not enrolled) finds "
                       f"{placebo.value:+.0%} [{placebo.low:+.0%}, {placebo.high:+.0%}], not 0: the references "
                       "are not comparable with the members")
    if placebo is None and len(trials.members) >= min_group:
        reasons.append("no placebo could be run (too few eligible persons not enrolled beside the members, or "
                       "none of their references had the outcome)")
    if trials.enrolled and trials.usable_share < cfg.min_usable_share:
        reasons.append(f"only {trials.usable_share:.0%} of the members have a reference (an eligible person of "
                       "their unit on their enrolment day)")
    if balance is not None and abs(balance) > cfg.max_balance and placebo is None:
        # only without a placebo: the bias correction answers for differences in the history, and the
        # placebo tells whether it did
        reasons.append(f"members and references differed before enrolment (standardised difference "
                       f"{balance:+.2f})")
    rule = " or ".join(c.text() for c in design.rule) if design.rule else None
    return Diagnostics(measure, rule, trials.usable_share, trials.enrolled, placebo, n_placebo, mem, ref, balance,
                       not reasons, tuple(reasons))


def _trajectories(trials: Trials, measure: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per 30-day block before enrolment, oldest first: members' mean, and the mean of their references'."""
    tb = trials.table
    if not trials.members:
        return (), ()
    mem, ref = [], []
    for k in range(BLOCKS, 0, -1):
        a = np.array([e.day - 30 * k for e in trials.members])
        rows = np.array([e.row for e in trials.members])
        mem.append(float(tb.window(measure, a, a + 30, rows).mean()))
        ref.append(float(np.mean([tb.window(measure, e.day - 30 * k, e.day - 30 * (k - 1), r).mean()
                                  for e, r in zip(trials.members, trials.refs, strict=True)])))
    return tuple(mem), tuple(ref)


def _balance(trials: Trials, measure: str) -> float | None:
    tb, w = trials.table, trials.design.before_days
    if len(trials.members) < 2:
        return None
    rows = np.array([e.row for e in trials.members])
    days = np.array([e.day for e in trials.members])
    m = tb.window(measure, days - w, days, rows)
    r = np.concatenate([tb.window(measure, e.day - w, e.day, refs) for e, refs in
                        zip(trials.members, trials.refs, strict=True)])
    sd = float(np.sqrt((m.var() + r.var()) / 2))
    return float((m.mean() - r.mean()) / sd) if sd > 0 else 0.0


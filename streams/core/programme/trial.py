"""The effect of a programme as an emulated target trial (Hernán & Robins): one trial per enrolment.

On the day D a person is enrolled, the trial's other arm is the persons of the same unit who were eligible
that day by the programme's declared rule (over their own outcomes in the days before D) and not enrolled
by D; of them, the `neighbours` with the nearest history at day resolution (each matched outcome summed over
the 7, 8-30, 31-90 and 91-window days before D) are the references. Follow-up starts on D for both arms; a
reference who is enrolled later is censored on their own enrolment day, and anyone's follow-up ends on the
last day their outcomes are known (data's end; a member who moved or died: the day before). Those enrolled
later are mostly those whose outcomes rose, so each reference-day carries an inverse-probability-of-
censoring weight (censoring.py).

What the member would have had without the programme, and the interval, are `trial_effect.py`'s.

Because no rule can be checked to hold, every estimate comes with its diagnostics (`Diagnostics`): a placebo
(the same estimator at pseudo-enrolments of eligible persons never enrolled: it must find about 0), the
before-trajectories of members and references, and the share of members with a usable reference.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from streams.core.programme.censoring import censoring_weights
from streams.core.programme.days import DayTable

DAYS_PER_MONTH = 30.4375
WINDOWS = ((1, 8), (8, 31), (31, 91))  # days before D: [D - 7, D), [D - 30, D - 7), [D - 90, D - 30)


@dataclass(frozen=True, slots=True)
class Criterion:
    """Eligible when `measure` summed over the `days` days before the date is at least `at_least`."""

    measure: str
    at_least: float
    days: int

    def text(self) -> str:
        return f"{self.measure} >= {self.at_least:g} in {self.days} days"


@dataclass(frozen=True, slots=True)
class Design:
    """What a programme's trials compare. `rule`: eligible when any criterion holds; (): none declared.
    `references`: "eligible" (the design); "never_eligible" draws them from persons who are never eligible
    in the data, a deliberately wrong design that the placebo must catch."""

    match_on: tuple[str, ...]
    before_days: int
    follow_days: int
    rule: tuple[Criterion, ...] = ()
    references: str = "eligible"


@dataclass(frozen=True, slots=True)
class TrialConfig:
    neighbours: int = 10
    bootstrap: int = 400
    seed: int = 15
    bin_days: int = 30
    ridge: float = 1e-2
    censoring_weights: bool = True  # weight references' days against informative censoring (censoring.py)
    max_weight: float = 10.0  # cap of a reference-day's censoring weight
    min_usable_share: float = 0.8  # of members with a reference, below which the effect is not reliable
    max_balance: float = 0.25  # |standardised difference| of the before-level above which it is not reliable
    ratio_bias_correction: bool = True  # the relative effect less the ratio's second-order bias (trial_effect.py)


@dataclass(frozen=True, slots=True)
class Figure:
    """A point estimate with its 95% interval."""

    value: float
    low: float
    high: float

    def contains(self, x: float) -> bool:
        return self.low <= x <= self.high

    def excludes_zero(self) -> bool:
        return not self.contains(0.0)


@dataclass(frozen=True, slots=True)
class Enrolment:
    row: int  # the member's row in the table
    day: int
    stop: int  # follow-up is [day, stop)
    organisation: str | None = None

    @classmethod
    def of(cls, table: DayTable, row: int, follow: int, organisation: str | None = None) -> Enrolment:
        """The row's enrolment in `table`, followed for `follow` days or until the person's last day."""
        day = int(table.enrol[row])
        return cls(row, day, min(day + follow, int(table.end[row]) + 1), organisation)


@dataclass(slots=True)
class Trials:
    """The trials of a cohort: per trial the member and references, and per 30-day bin of follow-up each
    reference's time at risk (`entries`), measure-independent."""

    table: DayTable
    design: Design
    cfg: TrialConfig
    members: list[Enrolment]  # usable trials
    refs: list[np.ndarray]  # per trial: rows of its references
    x: np.ndarray  # (trials, features): members' history
    x_refs: np.ndarray  # (trials, features): their references' mean history
    e_trial: np.ndarray  # per entry (trial, bin, reference): its trial
    e_bin: np.ndarray
    e_row: np.ndarray
    e_start: np.ndarray
    e_stop: np.ndarray
    e_x: np.ndarray  # (entries, features) the reference's history
    e_first: np.ndarray  # per entry: where its days start in the flat day arrays below (entry order)
    d_row: np.ndarray  # per reference-day of every entry: the reference's row, the day, and its weight
    d_day: np.ndarray
    d_w: np.ndarray
    enrolled: int  # members with a follow-up day (usable or not)
    weights: np.ndarray | None = None  # the bootstrap's Poisson weights, drawn once (`bootstrap_weights`)

    @property
    def usable_share(self) -> float:
        return len(self.members) / self.enrolled if self.enrolled else 0.0

    def entry_sums(self, measure: str) -> tuple[np.ndarray, np.ndarray]:
        """Per entry: the reference's weighted events of `measure` and weighted days at risk."""
        c = self.table.cum[measure]
        k = np.clip(self.d_day - self.table.day0, 0, self.table.days - 1)
        daily = c[self.d_row, k + 1] - c[self.d_row, k]
        if not len(self.e_first):
            return np.zeros(0), np.zeros(0)
        return np.add.reduceat(self.d_w * daily, self.e_first), np.add.reduceat(self.d_w, self.e_first)

    def bootstrap_weights(self) -> np.ndarray:
        """One Poisson(1) weight per bootstrap replicate and person, from the configured seed: the same for
        every measure, group and subset fitted on these trials, so drawn once."""
        if self.weights is None:
            rng = np.random.default_rng(self.cfg.seed)
            self.weights = rng.poisson(1.0, (self.cfg.bootstrap, self.table.persons)).astype(np.float32)
        return self.weights


def eligible(table: DayTable, rule: Sequence[Criterion], day: int, rows: np.ndarray) -> np.ndarray:
    out = np.zeros(len(rows), dtype=bool)
    for c in rule:
        out |= table.window(c.measure, day - c.days, day, rows) >= c.at_least - 1e-9
    return out


def ever_eligible(table: DayTable, rule: Sequence[Criterion]) -> np.ndarray:
    """Per person: eligible on some day of the data."""
    out = np.zeros(table.persons, dtype=bool)
    for c in rule:
        cum = table.cum[c.measure]
        k = min(c.days, table.days)
        out |= ((cum[:, k:] - cum[:, :-k]) >= c.at_least - 1e-9).any(axis=1)
    return out


def history(table: DayTable, design: Design, day: int, rows: np.ndarray) -> np.ndarray:
    """Per row: the matched outcomes over the windows before `day` (log(1 + sum))."""
    cols = []
    edges = [*WINDOWS, *(((91, design.before_days + 1),) if design.before_days > 90 else ())]
    for measure in design.match_on:
        for near, far in edges:
            cols.append(np.log1p(np.maximum(table.window(measure, day - far + 1, day - near + 1, rows), 0.0)))
    return np.stack(cols, axis=1) if cols else np.zeros((len(rows), 0))


def candidates(table: DayTable, day: int) -> np.ndarray:
    """Rows that can be a reference on `day`: seen before it, followed on it, not enrolled by it."""
    return np.flatnonzero((table.first < day) & (table.end >= day) & (table.enrol > day))


def build(table: DayTable, design: Design, enrolments: Sequence[Enrolment], cfg: TrialConfig) -> Trials:
    """The trials of `enrolments`: those with a follow-up day and a reference."""
    members: list[Enrolment] = []
    refs: list[np.ndarray] = []
    xs: list[np.ndarray] = []
    xr: list[np.ndarray] = []
    entries: list[tuple[np.ndarray, ...]] = []
    spans: list[tuple[np.ndarray, ...]] = []  # per trial: its references' rows, first and stop days
    enrolled = 0
    by_day: dict[int, list[Enrolment]] = {}
    for e in enrolments:
        if e.stop > e.day:
            enrolled += 1
            by_day.setdefault(e.day, []).append(e)
    never = ~ever_eligible(table, design.rule) if design.references != "eligible" else None
    for day in sorted(by_day):
        group = sorted(by_day[day], key=lambda g: g.row)
        mem_rows = np.array([e.row for e in group])
        units = table.unit_at(day)
        rows = candidates(table, day)
        rows = rows[np.isin(units[rows], units[mem_rows])]  # only the units enrolling that day
        status = eligible(table, design.rule, day, rows) if design.rule else np.ones(len(rows), dtype=bool)
        mstat = eligible(table, design.rule, day, mem_rows) if design.rule else np.ones(len(group), dtype=bool)
        if design.references == "eligible":
            same = np.isin(status, mstat)
            rows, status = rows[same], status[same]
        else:
            assert never is not None
            keep = never[rows]
            rows, status = rows[keep], np.zeros(int(keep.sum()), dtype=bool)
        allx = history(table, design, day, np.concatenate([rows, mem_rows]))
        cx, mx = allx[: len(rows)], allx[len(rows):]
        scale = cx.std(axis=0) if len(rows) > 1 else np.ones(allx.shape[1])
        scale[scale <= 0] = 1.0
        for jj, e in enumerate(group):
            # the design compares with the eligible; the wrong design, with those who are not
            want = bool(mstat[jj]) if design.references == "eligible" else False  # never eligible: status False
            ok = (units[rows] == units[e.row]) & (status == want) & (rows != e.row)
            pool = np.flatnonzero(ok)
            if not len(pool):
                continue
            d = np.abs((cx[pool] - mx[jj]) / scale).sum(axis=1)
            order = np.lexsort((rows[pool], d))[: cfg.neighbours]
            chosen = pool[order]
            r = rows[chosen]
            t = len(members)
            members.append(e)
            refs.append(r)
            xs.append(mx[jj])
            xr.append(cx[chosen].mean(axis=0))
            ref_stop = np.minimum(np.minimum(table.end[r] + 1, table.enrol[r]), e.stop)
            spans.append((r, np.full(len(r), e.day), ref_stop))
            for b in range(math.ceil((e.stop - e.day) / cfg.bin_days)):
                a = e.day + b * cfg.bin_days
                at_risk = ref_stop > a
                if not at_risk.any():
                    break
                n = int(at_risk.sum())
                entries.append((np.full(n, t), np.full(n, b), r[at_risk], np.full(n, a),
                                np.minimum(ref_stop[at_risk], a + cfg.bin_days), cx[chosen][at_risk]))
    f = xs[0].shape[0] if xs else len(design.match_on) * (len(WINDOWS) + (design.before_days > 90))

    def cat(k: int) -> np.ndarray:
        return np.concatenate([en[k] for en in entries]) if entries else np.zeros(0, dtype=np.int64)

    e_trial, e_row, e_start, e_stop = cat(0), cat(2), cat(3), cat(4)
    length = e_stop - e_start
    e_first = np.cumsum(length) - length
    entry = np.repeat(np.arange(len(length)), length)
    d_row = e_row[entry]
    d_day = e_start[entry] + np.arange(len(entry)) - e_first[entry]
    d_w = np.ones(len(entry))
    if cfg.censoring_weights and spans:
        rows, start, stop = (np.concatenate([sp[k] for sp in spans]) for k in range(3))
        day0 = np.array([m.day for m in members], dtype=np.int64)
        d_w = censoring_weights(table, design.match_on, [(c.measure, c.at_least, c.days) for c in design.rule],
                                rows, start, stop, table.enrol[rows], d_row, d_day, day0[e_trial][entry],
                                cfg.max_weight)
    return Trials(table, design, cfg, members, refs,
                  np.array(xs) if xs else np.zeros((0, f)), np.array(xr) if xr else np.zeros((0, f)),
                  e_trial, cat(1), e_row, e_start, e_stop,
                  np.concatenate([en[5] for en in entries]) if entries else np.zeros((0, f)),
                  e_first, d_row, d_day, d_w, enrolled)

"""One person's tracker: duplicates, lateness, and results that do not depend on arrival order.

The state is a *settled checkpoint* (the fold over every fact older than the horizon) plus the *pending*
facts inside the allowed lateness. Each accepted fact is inserted in event-time order and the fold is
replayed from the checkpoint; what it concludes is compared with what was concluded before, and only the
difference goes out: new or revised flags, withdrawn flags, and deltas to unit figures. Summed over a
stream, the output equals the fold over the facts sorted by event time, however they arrived within
the bound. The lateness clock is the person's latest arrival time, so the decision whether a fact is too
late does not depend on other people's traffic or on partitioning.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from streams.core.config import MonitorConfig
from streams.core.person.facts import Fact, fact_from_list
from streams.core.person.fold import ContribKey, Emits, PersonFold
from streams.core.person.rules import RULES, PersonRule
from streams.core.person.steps import PersonSteps
from streams.models.flags import Flag, FlagStatus

STATE_VERSION = 1


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    TOO_LATE = "too_late"


@dataclass(slots=True)
class PersonState:
    """What a Faust table keeps per person (keyed by pseudonym). Versioned, JSON-serialisable.

    Durable: the checkpoint, the pending facts, the ids seen, the clock and the sequence number. The
    fold over the pending facts (`current`) is a cache rebuilt from those on first use, so it is never
    serialised and can never disagree with them.
    """

    clock: int = 0
    checkpoint: PersonFold = field(default_factory=PersonFold)
    pending: list[Fact] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)
    seq: int = 0  # accepted events so far: lets the unit stage recognise a re-sent update
    current: PersonFold | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "version": STATE_VERSION,
            "clock": self.clock,
            "checkpoint": self.checkpoint.to_dict(),
            "pending": [list(f) for f in self.pending],
            "seen": self.seen,
            "seq": self.seq,
        }

    @classmethod
    def from_dict(cls, d: dict) -> PersonState:  # type: ignore[type-arg]
        if d.get("version") != STATE_VERSION:
            raise ValueError(f"unknown person state version {d.get('version')!r}")
        return cls(
            clock=int(d["clock"]),
            checkpoint=PersonFold.from_dict(d["checkpoint"]),
            pending=[fact_from_list(f) for f in d["pending"]],
            seen={str(k): int(v) for k, v in d["seen"].items()},
            seq=int(d["seq"]),
        )


@dataclass(slots=True)
class PersonResult:
    outcome: Outcome
    flags: list[Flag] = field(default_factory=list)
    deltas: dict[ContribKey, float] = field(default_factory=dict)


class PersonTracker:
    def __init__(self, config: MonitorConfig, rules: Iterable[type[PersonRule]] = RULES) -> None:
        self.config = config
        self.rules = PersonSteps(config, rules)
        self._lateness = config.allowed_lateness_s
        self._dedup_s = config.dedup_window_days * 86400

    def apply(self, state: PersonState, fact: Fact, arrival: int, subject: str) -> PersonResult:
        """Take one fact that arrived at `arrival` (epoch s, event-time domain). Mutates `state`."""
        if fact.event_id in state.seen:
            return PersonResult(Outcome.DUPLICATE)
        clock = max(state.clock, arrival)
        horizon = clock - self._lateness
        if fact.t < horizon:
            return PersonResult(Outcome.TOO_LATE)
        state.clock = clock
        state.seq += 1
        state.seen[fact.event_id] = fact.t
        current = self._cache(state, subject)
        result = PersonResult(Outcome.ACCEPTED)
        if not state.pending or fact > state.pending[-1]:
            # In event-time order (the usual case): one step, and what it concludes is the change.
            step = Emits()
            self.rules.step(current, fact, subject, step)
            state.pending.append(fact)
            result.flags = list(step.flags.values())
            result.deltas = {k: v for k, v in step.contrib.items() if abs(v) > 1e-9}
        else:
            # Late: replay the pending facts from the checkpoint without and with the late one, and
            # send the difference of what the two tails conclude.
            i = bisect.bisect(state.pending, fact)
            fold = state.checkpoint.copy()
            for f in state.pending[:i]:
                self.rules.step(fold, f, subject, Emits())
            before, old_tail = fold.copy(), Emits()
            for f in state.pending[i:]:
                self.rules.step(before, f, subject, old_tail)
            state.pending.insert(i, fact)
            new_tail = Emits()
            for f in state.pending[i:]:
                self.rules.step(fold, f, subject, new_tail)
            result.flags = _flag_changes(old_tail.flags, new_tail.flags)
            result.deltas = _contrib_changes(old_tail.contrib, new_tail.contrib)
            state.current = fold
        self._settle(state, subject, horizon)
        self._forget_ids(state, horizon)
        return result

    def current(self, state: PersonState, subject: str) -> PersonFold:
        """The fold over every accepted fact: what the person's indicators are read from."""
        return self._cache(state, subject)

    def _cache(self, state: PersonState, subject: str) -> PersonFold:
        if state.current is None:
            fold = state.checkpoint.copy()
            for f in state.pending:
                self.rules.step(fold, f, subject, Emits())
            state.current = fold
        return state.current

    def _settle(self, state: PersonState, subject: str, horizon: int) -> None:
        """Facts older than the horizon can no longer be preceded by a new one: fold them for good."""
        k = 0
        while k < len(state.pending) and state.pending[k].t < horizon:
            self.rules.step(state.checkpoint, state.pending[k], subject, Emits())
            k += 1
        if k:
            del state.pending[:k]

    def _forget_ids(self, state: PersonState, horizon: int) -> None:
        """Drop ids older than the dedup window, oldest first (ids arrive in roughly time order; one
        that arrived out of order is kept a little longer, which is harmless)."""
        cutoff = horizon - self._dedup_s
        seen = state.seen
        while seen:
            oldest = next(iter(seen))
            if seen[oldest] >= cutoff:
                break
            del seen[oldest]


def _flag_changes(before: dict[str, Flag], after: dict[str, Flag]) -> list[Flag]:
    changes = [flag for fid, flag in after.items() if before.get(fid) != flag]
    changes += [
        flag.model_copy(update={"status": FlagStatus.WITHDRAWN})
        for fid, flag in before.items()
        if fid not in after
    ]
    return changes


def _contrib_changes(before: dict[ContribKey, float], after: dict[ContribKey, float]) -> dict[ContribKey, float]:
    deltas: dict[ContribKey, float] = {}
    for k in after.keys() | before.keys():
        d = after.get(k, 0.0) - before.get(k, 0.0)
        if abs(d) > 1e-9:
            deltas[k] = d
    return deltas

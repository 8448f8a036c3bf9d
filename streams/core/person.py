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
from dataclasses import dataclass, field
from enum import StrEnum

from streams.core.config import MonitorConfig
from streams.core.facts import Fact, fact_from_list
from streams.core.person_fold import ContribKey, Emits, PersonFold, PersonRules
from streams.models.flags import Flag, FlagStatus

STATE_VERSION = 1


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    TOO_LATE = "too_late"


@dataclass(slots=True)
class PersonState:
    """What a Faust table keeps per person (keyed by pseudonym). Versioned, JSON-serialisable."""

    clock: int = 0
    checkpoint: PersonFold = field(default_factory=PersonFold)
    pending: list[Fact] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)
    suffix_flags: dict[str, Flag] = field(default_factory=dict)
    suffix_contrib: dict[ContribKey, float] = field(default_factory=dict)
    seq: int = 0  # accepted events so far: lets the unit stage recognise a re-sent update

    def to_dict(self) -> dict[str, object]:
        return {
            "version": STATE_VERSION,
            "clock": self.clock,
            "checkpoint": self.checkpoint.to_dict(),
            "pending": [list(f) for f in self.pending],
            "seen": self.seen,
            "suffix_flags": [f.model_dump(mode="json") for f in self.suffix_flags.values()],
            "suffix_contrib": [[m, u, d, v] for (m, u, d), v in self.suffix_contrib.items()],
            "seq": self.seq,
        }

    @classmethod
    def from_dict(cls, d: dict) -> PersonState:  # type: ignore[type-arg]
        if d.get("version") != STATE_VERSION:
            raise ValueError(f"unknown person state version {d.get('version')!r}")
        flags = [Flag.model_validate(x) for x in d["suffix_flags"]]
        return cls(
            clock=int(d["clock"]),
            checkpoint=PersonFold.from_dict(d["checkpoint"]),
            pending=[fact_from_list(f) for f in d["pending"]],
            seen={str(k): int(v) for k, v in d["seen"].items()},
            suffix_flags={f.flag_id: f for f in flags},
            suffix_contrib={(str(m), str(u), int(day)): float(v) for m, u, day, v in d["suffix_contrib"]},
            seq=int(d["seq"]),
        )


@dataclass(slots=True)
class PersonResult:
    outcome: Outcome
    flags: list[Flag] = field(default_factory=list)
    deltas: dict[ContribKey, float] = field(default_factory=dict)


class PersonTracker:
    def __init__(self, config: MonitorConfig) -> None:
        self.config = config
        self.rules = PersonRules(config)
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
        bisect.insort(state.pending, fact)

        settled, suffix, checkpoint, _ = self._replay(state, subject, horizon)
        result = PersonResult(Outcome.ACCEPTED)
        result.flags = _flag_changes(state.suffix_flags, settled.flags | suffix.flags)
        result.deltas = _contrib_changes(state.suffix_contrib, settled.contrib, suffix.contrib)

        state.checkpoint = checkpoint
        state.pending = [f for f in state.pending if f.t >= horizon]
        state.suffix_flags = suffix.flags
        state.suffix_contrib = suffix.contrib
        self._forget_ids(state, horizon)
        return result

    def current(self, state: PersonState, subject: str) -> PersonFold:
        """The fold over every accepted fact: what the person's indicators are read from."""
        return self._replay(state, subject, horizon=-(2**62))[3]

    def _replay(
        self, state: PersonState, subject: str, horizon: int
    ) -> tuple[Emits, Emits, PersonFold, PersonFold]:
        fold = state.checkpoint.copy()
        settled, suffix = Emits(), Emits()
        checkpoint: PersonFold | None = None
        for f in state.pending:
            if f.t < horizon:
                self.rules.step(fold, f, subject, settled)
            else:
                if checkpoint is None:
                    checkpoint = fold.copy()
                self.rules.step(fold, f, subject, suffix)
        if checkpoint is None:
            checkpoint = fold.copy()
        return settled, suffix, checkpoint, fold

    def _forget_ids(self, state: PersonState, horizon: int) -> None:
        cutoff = horizon - self._dedup_s
        if state.seen and min(state.seen.values()) < cutoff:
            state.seen = {e: t for e, t in state.seen.items() if t >= cutoff}


def _flag_changes(before: dict[str, Flag], after: dict[str, Flag]) -> list[Flag]:
    changes = [flag for fid, flag in after.items() if before.get(fid) != flag]
    changes += [
        flag.model_copy(update={"status": FlagStatus.WITHDRAWN})
        for fid, flag in before.items()
        if fid not in after
    ]
    return changes


def _contrib_changes(
    before: dict[ContribKey, float], *after_parts: dict[ContribKey, float]
) -> dict[ContribKey, float]:
    after: dict[ContribKey, float] = {}
    for part in after_parts:
        for k, v in part.items():
            after[k] = after.get(k, 0.0) + v
    deltas: dict[ContribKey, float] = {}
    for k in after.keys() | before.keys():
        d = after.get(k, 0.0) - before.get(k, 0.0)
        if abs(d) > 1e-9:
            deltas[k] = d
    return deltas

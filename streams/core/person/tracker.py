"""One person's tracker: duplicates, lateness, and results that do not depend on arrival order.

The state is a *settled checkpoint* (the fold over every fact older than the horizon) plus the *pending*
facts inside the allowed lateness, with the fold after each pending fact kept (a cache). Each accepted
fact is inserted in event-time order and the fold is replayed from the kept fold before it; what it
concludes is compared with what was concluded before, and only the difference goes out: new or revised
flags, withdrawn flags, and deltas to unit figures. Summed over a stream, the output equals the fold over
the facts sorted by event time, however they arrived within the bound. The lateness clock is the person's
latest arrival time, so the decision whether a fact is too late does not depend on other people's traffic
or on partitioning.
"""

from __future__ import annotations

import bisect
import sys
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from streams.core.config import MonitorConfig
from streams.core.person.facts import Fact, fact_from_list, fact_to_list
from streams.core.person.fold import ContribKey, Emits, PersonFold
from streams.core.person.folder import Folder
from streams.core.person.old_states import CURRENT_VERSION, UNKNOWN, upgrade
from streams.core.person.rules import RULES, RULES_BY_NAME, PersonRule
from streams.models.flags import Flag, FlagStatus, WithdrawnBecause
from streams.models.vocab import EventKind

STATE_VERSION = CURRENT_VERSION  # what earlier versions wrote, and how it is read: old_states.py


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    TOO_LATE = "too_late"
    CONFLICTING = "conflicting"  # the same id with other content: both versions are void
    RETRACTION_TOO_LATE = "retraction_too_late"  # the retracted event is settled
    RETRACTS_A_RETRACTION = "retracts_a_retraction"  # a retraction is never taken back


class Retracted(StrEnum):
    """What an accepted retraction did (a counter's label)."""

    APPLIED = "applied"  # the event was here: it has no effect now (its flags withdrawn, `retraction`)
    EVENT_NOT_SEEN = "event_not_seen"  # not here (yet, or never sent): ignored if it comes within the window
    ALREADY_VOID = "already_void"  # retracted before, or void as a conflicting duplicate: nothing more to do


VOID = -2  # an id whose event was retracted or came in two versions: it has no effect
#: Set in the digest of a retraction: a retraction of it is told apart from one of a settled event.
RETRACTION_BIT = 1 << 32


@dataclass(slots=True)
class PersonState:
    """What a Faust table keeps per person (keyed by pseudonym). Versioned, JSON-serialisable.

    Durable: the checkpoint, the pending facts, the ids seen, the clock and the sequence number. The
    folds after each pending fact (`folds`) are a cache rebuilt from those on first use, so they are never
    serialised and can never disagree with them.
    """

    clock: int = 0
    checkpoint: PersonFold = field(default_factory=PersonFold)
    pending: list[Fact] = field(default_factory=list)
    seen: dict[str, tuple[int, int]] = field(default_factory=dict)  # event id -> (t, digest | VOID)
    seq: int = 0  # accepted events so far: lets the unit stage recognise a re-sent update
    # per source stream, the highest place of a record taken (core/person/redelivery.py); optional in
    # a stored state, so states written before it read as having taken nothing
    taken: dict[str, int] = field(default_factory=dict)
    # folds[j]: the fold over the checkpoint and pending[:j + 1], for the first len(folds) pending facts
    # (None: none yet). Folds are values (fold.py), so one kept here is never changed: settling k facts
    # takes folds[k - 1] as the checkpoint, and a late fact at index i is folded from folds[i - 1].
    folds: list[PersonFold] | None = None
    # Late facts inserted but not folded again yet (`PersonTracker.fold_late`): the lowest index inserted
    # at, and the pending facts as they were before the first. Never serialised: they are folded in
    # before a state is written.
    late_from: int | None = None
    before_late: list[Fact] | None = None

    def to_dict(self) -> dict[str, object]:
        if self.late_from is not None:
            raise RuntimeError("a person state with late facts not yet folded is never written: fold them in first")
        d: dict[str, object] = {"version": STATE_VERSION, "clock": self.clock}
        checkpoint = self.checkpoint.to_dict(RULES_BY_NAME)
        if checkpoint:  # most persons: nothing has settled yet
            d["checkpoint"] = checkpoint
        d["pending"] = [fact_to_list(f) for f in self.pending]
        d["seen"] = {k: list(v) for k, v in self.seen.items()}
        d["seq"] = self.seq
        if self.taken:
            d["taken"] = self.taken
        return d

    @classmethod
    def from_dict(cls, d: dict) -> PersonState:  # type: ignore[type-arg]
        d = upgrade(d)
        return cls(
            clock=int(d["clock"]),
            checkpoint=PersonFold.from_dict(d["checkpoint"], RULES_BY_NAME) if "checkpoint" in d else PersonFold(),
            pending=[fact_from_list(f) for f in d["pending"]],
            seen={str(k): (int(v[0]), int(v[1])) for k, v in d["seen"].items()},
            seq=int(d["seq"]),
            taken={sys.intern(str(k)): int(v) for k, v in d.get("taken", {}).items()},
        )


@dataclass(slots=True)
class Changes:
    """What taking one fact (or folding late facts in) changed: new, revised or withdrawn flags and
    deltas to unit figures, with what became of the fact."""

    outcome: Outcome
    flags: list[Flag] = field(default_factory=list)
    deltas: dict[ContribKey, float] = field(default_factory=dict)
    retracted: Retracted | None = None  # what a retraction did


class PersonTracker:
    def __init__(self, config: MonitorConfig, rules: Iterable[type[PersonRule]] = RULES) -> None:  # type: ignore[type-arg]
        self.config = config
        self.folder = Folder(config, rules)
        self._lateness = config.allowed_lateness_s
        self._dedup_s = config.dedup_window_days * 86400

    def take(self, state: PersonState, fact: Fact, arrival: int, subject: str) -> Changes:
        """Take one fact that arrived at `arrival` (epoch s, event-time domain). Mutates `state`."""
        digest = fact_digest(fact)
        seen = state.seen
        known = seen.get(fact.event_id)
        if known is not None:
            # a retraction recorded before its digest had RETRACTION_BIT is the same retraction
            if known[1] in (digest, UNKNOWN, VOID) or known[1] == digest - RETRACTION_BIT >= 0:
                return Changes(Outcome.DUPLICATE)
            return self._conflict(state, fact.event_id, subject)  # the same id, other content
        clock = state.clock if state.clock > arrival else arrival
        horizon = clock - self._lateness
        if fact.t < horizon:
            return Changes(Outcome.TOO_LATE)
        retraction = fact.kind == EventKind.RETRACTION
        if retraction and seen.get(fact.ref, (0, 0))[1] >= RETRACTION_BIT:
            return Changes(Outcome.RETRACTS_A_RETRACTION)
        if retraction and (fact.value < horizon or self._settled(state, fact.ref)):
            return Changes(Outcome.RETRACTION_TOO_LATE)  # the retracted event is settled
        state.clock = clock
        state.seq += 1
        seen[fact.event_id] = (fact.t, digest)
        pending = state.pending
        if retraction:
            result = _merge(self.fold_late(state, subject), self._retract(state, fact, subject))
        elif not pending or fact > pending[-1]:
            # In event-time order (the usual case): one step, and what it concludes is the change.
            folded = self.fold_late(state, subject) if state.late_from is not None else None
            folds = self._folds(state, len(pending), subject)
            step = Emits()
            folds.append(self.folder.step(folds[-1] if folds else state.checkpoint, fact, subject, step))
            pending.append(fact)
            contrib = step.contrib
            for v in contrib.values():
                if not (v > 1e-9 or v < -1e-9):  # rare: a sum that came to nothing is no change
                    contrib = {k: v for k, v in contrib.items() if abs(v) > 1e-9}
                    break
            result = Changes(Outcome.ACCEPTED, list(step.flags.values()) if step.flags else [], contrib)
            if folded is not None:
                result = _merge(folded, result)
        else:
            # Late: inserted in event-time order now and folded again by `fold_late`, whose changes go out
            # as an update of their own (the person stage calls it right after each late fact, in replay
            # and the worker alike, so their flag versions agree).
            i = bisect.bisect(state.pending, fact)
            if state.late_from is None:
                state.late_from, state.before_late = i, list(state.pending)
            state.late_from = min(state.late_from, i)
            state.pending.insert(i, fact)
            if state.folds is not None:
                del state.folds[i:]
            result = Changes(Outcome.ACCEPTED)
        pending = state.pending
        if pending and pending[0].t < horizon:
            if state.late_from is not None:
                result = _merge(result, self.fold_late(state, subject))  # settling needs the fold up to date
            self._settle(state, subject, horizon)
        if seen and next(iter(seen.values()))[0] < horizon - self._dedup_s:
            self._forget_ids(state, horizon)
        return result

    def fold_late(self, state: PersonState, subject: str) -> Changes:
        """Fold again from the earliest late fact inserted since the last time; what changed goes out
        (the difference of what the pending facts conclude without and with the late ones)."""
        if state.late_from is None or state.before_late is None:
            return Changes(Outcome.ACCEPTED)
        i, before = state.late_from, state.before_late
        state.late_from = state.before_late = None
        return self._difference(state, i, before, subject, Outcome.ACCEPTED, WithdrawnBecause.LATE_DATA)

    def _retract(self, state: PersonState, retraction: Fact, subject: str) -> Changes:
        """A retraction: the retracted event has no effect, whether it came before or comes after."""
        target = retraction.ref
        known = state.seen.get(target)
        if known is None:  # not here yet: when it comes, it is ignored
            state.seen[target] = (retraction.t, VOID)
            return Changes(Outcome.ACCEPTED, retracted=Retracted.EVENT_NOT_SEEN)
        if known[1] == VOID:
            return Changes(Outcome.ACCEPTED, retracted=Retracted.ALREADY_VOID)
        i = _index_of(state.pending, target)
        assert i is not None, "take() turns away a retraction of a settled event"
        state.seen[target] = (known[0], VOID)
        changes = self._refold(state, i, lambda pending: pending.pop(i), subject, Outcome.ACCEPTED,
                               WithdrawnBecause.RETRACTION)
        changes.retracted = Retracted.APPLIED
        return changes

    @staticmethod
    def _settled(state: PersonState, event_id: str) -> bool:
        """The event was taken and is now part of the checkpoint: it can no longer be taken back."""
        known = state.seen.get(event_id)
        return known is not None and known[1] != VOID and _index_of(state.pending, event_id) is None

    def _conflict(self, state: PersonState, event_id: str, subject: str) -> Changes:
        """Two versions of one event: neither is used, whichever came first (within the lateness)."""
        folded = self.fold_late(state, subject)
        if folded.flags or folded.deltas:
            state.seq += 1
        return _merge(folded, self._void_conflicting(state, event_id, subject))

    def _void_conflicting(self, state: PersonState, event_id: str, subject: str) -> Changes:
        t, _ = state.seen[event_id]
        state.seen[event_id] = (t, VOID)
        i = _index_of(state.pending, event_id)
        if i is None:  # settled before the second version came: it stays (docs/event-contract.md, duplicates)
            return Changes(Outcome.CONFLICTING)
        state.seq += 1
        return self._refold(state, i, lambda pending: pending.pop(i), subject, Outcome.CONFLICTING,
                            WithdrawnBecause.CONFLICTING_DUPLICATE)

    def _refold(self, state: PersonState, i: int, change: Callable[[list[Fact]], object], subject: str,
                outcome: Outcome, because: WithdrawnBecause) -> Changes:
        """Fold the pending facts from index `i` before and after `change`; the difference goes out."""
        before = list(state.pending)
        change(state.pending)
        return self._difference(state, i, before, subject, outcome, because)

    def _difference(self, state: PersonState, i: int, before: list[Fact], subject: str, outcome: Outcome,
                    because: WithdrawnBecause) -> Changes:
        """What the pending facts from index `i` conclude now against what `before` (the pending facts
        as they were, the same up to `i`) concluded, both folded from the kept fold before `i`; the kept
        folds are left up to date."""
        folds, step = self._folds(state, i, subject), self.folder.step
        del folds[i:]
        start = folds[-1] if folds else state.checkpoint
        fold, old_tail = start, Emits()
        for f in before[i:]:
            fold = step(fold, f, subject, old_tail)
        fold, new_tail = start, Emits()
        for f in state.pending[i:]:
            fold = step(fold, f, subject, new_tail)
            folds.append(fold)
        return Changes(outcome, _flag_changes(old_tail.flags, new_tail.flags, because),
                            _contrib_changes(old_tail.contrib, new_tail.contrib))

    def current(self, state: PersonState, subject: str) -> PersonFold:
        """The fold over every accepted fact: what the person's indicators are read from (not to be changed)."""
        folds = self._folds(state, len(state.pending), subject)
        return folds[-1] if folds else state.checkpoint

    def _folds(self, state: PersonState, n: int, subject: str) -> list[PersonFold]:
        """The kept folds, built from the checkpoint up to the first `n` pending facts if they are not yet
        (a state read from storage, or after a late fact). What the facts conclude went out before."""
        folds = state.folds
        if folds is None:
            folds = state.folds = []
        if len(folds) < n:
            fold, unused, step = folds[-1] if folds else state.checkpoint, Emits(discard=True), self.folder.step
            for f in state.pending[len(folds):n]:
                fold = step(fold, f, subject, unused)
                folds.append(fold)
        return folds

    def _settle(self, state: PersonState, subject: str, horizon: int) -> None:
        """Facts older than the horizon can no longer be preceded by a new one: the fold after the last of
        them is the checkpoint now."""
        k, pending = 0, state.pending
        while k < len(pending) and pending[k].t < horizon:
            k += 1
        if k:
            folds = self._folds(state, k, subject)
            state.checkpoint = folds[k - 1]
            del folds[:k]
            del pending[:k]

    def _forget_ids(self, state: PersonState, horizon: int) -> None:
        """Drop ids older than the dedup window, oldest first (ids arrive in roughly time order; one
        that arrived out of order is kept a little longer, which is harmless)."""
        cutoff = horizon - self._dedup_s
        seen = state.seen
        while seen:
            oldest = next(iter(seen))
            if seen[oldest][0] >= cutoff:
                break
            del seen[oldest]


def _flag_changes(before: dict[str, Flag], after: dict[str, Flag], because: WithdrawnBecause) -> list[Flag]:
    """New flags as they are; an episode whose flag changed as a new version of it (same id, with what
    changed and why); an episode that no longer holds withdrawn."""
    changes = [_revision(before[fid], flag, because) if fid in before else flag
               for fid, flag in after.items() if before.get(fid) != flag]
    changes += [
        flag.model_copy(update={"status": FlagStatus.WITHDRAWN, "withdrawn_because": because})
        for fid, flag in before.items()
        if fid not in after
    ]
    return changes


def _revision(old: Flag, new: Flag, because: WithdrawnBecause) -> Flag:
    was, now = old.model_dump(), new.model_dump()
    changed = sorted(k for k in now if k not in ("revised_because", "changed") and now[k] != was.get(k))
    return new.model_copy(update={"revised_because": because, "changed": changed})


def _merge(first: Changes, then: Changes) -> Changes:
    """Two results of one step, in order: `then`'s outcome, both results' changes."""
    flags = {f.flag_id: f for f in first.flags}
    flags.update((f.flag_id, f) for f in then.flags)
    deltas = dict(first.deltas)
    for k, v in then.deltas.items():
        deltas[k] = deltas.get(k, 0.0) + v
    return Changes(then.outcome, list(flags.values()), {k: v for k, v in deltas.items() if abs(v) > 1e-9},
                   then.retracted)


def _index_of(pending: list[Fact], event_id: str) -> int | None:
    return next((i for i, f in enumerate(pending) if f.event_id == event_id), None)


def fact_digest(fact: Fact) -> int:
    """What an event says, without its id: two events with one id and different digests conflict. A
    retraction's has RETRACTION_BIT set."""
    text = f"{fact.t}|{fact.kind}|{fact.unit_id}|{fact.day}|{fact.value!r}|{fact.planned}|{fact.ref}"
    return zlib.crc32(text.encode()) | (RETRACTION_BIT if fact.kind == EventKind.RETRACTION else 0)


def _contrib_changes(before: dict[ContribKey, float], after: dict[ContribKey, float]) -> dict[ContribKey, float]:
    deltas: dict[ContribKey, float] = {}
    for k in after.keys() | before.keys():
        d = after.get(k, 0.0) - before.get(k, 0.0)
        if abs(d) > 1e-9:
            deltas[k] = d
    return deltas

"""A flag's handling: open -> acknowledged -> resolved, or snoozed until a day (then open again).

`handle(state, action, withdrawn)` is the whole state machine: the next state, or a `Refusal` with the
reason a user sees. `malformed` is what is wrong with an action itself, whatever the flag's state (a
bad request: HTTP 400); the rest of `check` is what the flag's state does not allow (HTTP 409). A
resolved flag stays resolved for its episode: late data that revises the flag keeps its id
(core/person), so the resolution stays with it. A withdrawn flag takes no action.
The state is rebuilt by applying the flag-actions topic in order; an action id seen before is ignored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from streams.core.personnummer import contains_personal_identity_number
from streams.models.handling import ActionKind, FlagAction, HandlingStatus, Resolution


@dataclass(frozen=True, slots=True)
class Refusal:
    reason: str


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    at: dt.datetime
    by: str
    action: str
    note: str = ""
    resolution: str | None = None
    until: dt.date | None = None


@dataclass(frozen=True, slots=True)
class HandlingState:
    status: HandlingStatus = HandlingStatus.OPEN
    resolution: Resolution | None = None
    snoozed_until: dt.date | None = None
    acknowledged_at: dt.datetime | None = None
    resolved_at: dt.datetime | None = None
    history: tuple[HistoryEntry, ...] = ()
    action_ids: frozenset[str] = field(default_factory=frozenset)

    def status_on(self, today: dt.date) -> HandlingStatus:
        """The status as a recipient sees it today: a snooze that has run out is open again."""
        if self.status is HandlingStatus.SNOOZED and self.snoozed_until is not None and today >= self.snoozed_until:
            return HandlingStatus.ACKNOWLEDGED if self.acknowledged_at is not None else HandlingStatus.OPEN
        return self.status


def identifying(name: str, text: str) -> str | None:
    """Why free text a person wrote (a note, a reveal's reason) may not be kept: it holds a personnummer or
    samordningsnummer, read as an event's identifiers are (core/personnummer.py); None if it may."""
    if not contains_personal_identity_number(text):
        return None
    return (f"{name} holds a personnummer or samordningsnummer, and what is written here is kept and shown to "
            f"colleagues: write it without the number (the flag names the person by pseudonym)")


def malformed(kind: ActionKind, *, today: dt.date, resolution: Resolution | None = None,
              until: dt.date | None = None, note: str = "") -> str | None:
    """What is wrong with the action itself, on any flag in any state; None if nothing."""
    written = identifying("note", note)
    if written is not None:
        return written
    if kind is ActionKind.RESOLVE and resolution is None:
        return "resolve needs a resolution: action_taken, no_action_needed or false_alarm"
    if kind is ActionKind.SNOOZE and (until is None or until <= today):
        return "snooze needs a day after today in `until`"
    return None


def check(state: HandlingState, kind: ActionKind, *, withdrawn: bool, today: dt.date,
          resolution: Resolution | None = None, until: dt.date | None = None) -> Refusal | None:
    """Whether `kind` may be done now; None if it may."""
    if withdrawn:
        return Refusal("the flag was withdrawn: the condition did not hold after all")
    status = state.status_on(today)
    if status is HandlingStatus.RESOLVED:
        return Refusal("the flag is resolved already")
    if kind is ActionKind.ACKNOWLEDGE and status is HandlingStatus.ACKNOWLEDGED:
        return Refusal("the flag is acknowledged already")
    fault = malformed(kind, today=today, resolution=resolution, until=until)
    return Refusal(fault) if fault is not None else None


def handle(state: HandlingState, action: FlagAction, *, withdrawn: bool) -> HandlingState | Refusal:
    """Apply one action (at its own time). An action id applied before changes nothing."""
    if action.action_id in state.action_ids:
        return state
    refusal = check(state, action.action, withdrawn=withdrawn, today=action.at.date(),
                    resolution=action.resolution, until=action.until)
    if refusal is not None:
        return refusal
    entry = HistoryEntry(action.at, action.by, action.action.value, action.note,
                         action.resolution.value if action.resolution else None, action.until)
    base = replace(state, history=(*state.history, entry), action_ids=state.action_ids | {action.action_id})
    if action.action is ActionKind.ACKNOWLEDGE:
        return replace(base, status=HandlingStatus.ACKNOWLEDGED, acknowledged_at=action.at, snoozed_until=None)
    if action.action is ActionKind.RESOLVE:
        return replace(base, status=HandlingStatus.RESOLVED, resolution=action.resolution, resolved_at=action.at,
                       snoozed_until=None)
    return replace(base, status=HandlingStatus.SNOOZED, snoozed_until=action.until)

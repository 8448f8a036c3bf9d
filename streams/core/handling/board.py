"""The inbox's read model: every flag with its versions and its handling, and the consent it needs.

Built by applying the flags topic (`on_flag`), the flag-actions topic (`on_action`) and the consent
changes (`on_consent`), each in its own order; the result does not depend on how the three interleave,
except that an action is checked against the flag as known when the action is applied (an action on a
flag withdrawn in the meantime is refused then, as it would have been at the door).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from streams.core.handling.access import ConsentPolicy, User, may_see
from streams.core.handling.consent import ConsentBook, ConsentChange
from streams.core.handling.lifecycle import HandlingState, Refusal, check, handle
from streams.models.flags import Flag, FlagStatus
from streams.models.handling import ActionKind, FlagAction, HandlingStatus, Resolution


@dataclass(frozen=True, slots=True)
class Version:
    number: int
    seen_at: dt.datetime
    status: str
    revised_because: str | None
    changed: tuple[str, ...]


@dataclass(slots=True)
class FlagEntry:
    flag: Flag
    first_seen: dt.datetime
    versions: list[Version] = field(default_factory=list)

    @property
    def withdrawn(self) -> bool:
        return self.flag.status is FlagStatus.WITHDRAWN


@dataclass(frozen=True, slots=True)
class Filter:
    status: HandlingStatus | None = None
    rule: str | None = None
    unit_id: str | None = None
    raised_from: dt.datetime | None = None  # raised at or after
    raised_before: dt.datetime | None = None

    def raised_in(self, at: dt.datetime) -> bool:
        return (self.raised_from is None or at >= self.raised_from) and \
            (self.raised_before is None or at < self.raised_before)


@dataclass(slots=True)
class Feedback:
    """Per rule and unit: how flags were resolved, and how long they took (seconds)."""

    resolved: dict[Resolution, int] = field(default_factory=dict)
    acknowledged: int = 0
    seconds_to_acknowledge: float = 0.0
    seconds_to_resolve: float = 0.0

    @property
    def false_alarm_share(self) -> float | None:
        total = sum(self.resolved.values())
        return self.resolved.get(Resolution.FALSE_ALARM, 0) / total if total else None


class FlagBoard:
    def __init__(self, policy: ConsentPolicy) -> None:
        self.policy = policy
        self.entries: dict[str, FlagEntry] = {}
        self.handling: dict[str, HandlingState] = {}
        self.consent = ConsentBook()
        self.refused: list[tuple[FlagAction, str]] = []  # actions refused when applied (races)

    # -- building -------------------------------------------------------------------------------------
    def on_flag(self, flag: Flag, seen_at: dt.datetime) -> bool:
        """Take one record of the flags topic; True if it is a new flag (not a version of a known one)."""
        entry = self.entries.get(flag.flag_id)
        version = Version(1 if entry is None else len(entry.versions) + 1, seen_at, flag.status.value,
                          flag.revised_because.value if flag.revised_because else None, tuple(flag.changed or ()))
        if entry is None:
            self.entries[flag.flag_id] = FlagEntry(flag, seen_at, [version])
            return True
        if entry.flag != flag:  # a record sent again (a restart) is not a new version
            entry.flag = flag
            entry.versions.append(version)
        return False

    def on_action(self, action: FlagAction) -> Refusal | None:
        entry = self.entries.get(action.flag_id)
        state = self.handling.get(action.flag_id, HandlingState())
        result = handle(state, action, withdrawn=entry is not None and entry.withdrawn)
        if isinstance(result, Refusal):
            self.refused.append((action, result.reason))
            return result
        self.handling[action.flag_id] = result
        return None

    def on_consent(self, change: ConsentChange) -> None:
        self.consent.apply(change)

    # -- reading --------------------------------------------------------------------------------------
    def state(self, flag_id: str) -> HandlingState:
        return self.handling.get(flag_id, HandlingState())

    def visible(self, user: User, flag_id: str) -> FlagEntry | None:
        entry = self.entries.get(flag_id)
        if entry is None or not may_see(user, entry.flag, self.policy, self.consent.joined(entry.flag.subject_id)):
            return None
        return entry

    def listing(self, user: User, today: dt.date, flt: Filter = Filter()) -> list[FlagEntry]:
        """The flags this user may see, withdrawn ones left out, newest first; those `flt` admits."""
        visible = [entry for fid, entry in self.entries.items()
                   if not entry.withdrawn and self.visible(user, fid) is not None]
        return self.matching(sorted(visible, key=lambda e: (e.flag.raised_at, e.flag.flag_id), reverse=True),
                             today, flt)

    def matching(self, entries: list[FlagEntry], today: dt.date, flt: Filter) -> list[FlagEntry]:
        """The entries `flt` admits, in their order (a listing narrowed without being read again)."""
        out = []
        for entry in entries:
            if flt.rule and entry.flag.rule.value != flt.rule or flt.unit_id and entry.flag.unit_id != flt.unit_id:
                continue
            if not flt.raised_in(entry.flag.raised_at):
                continue
            if flt.status and self.state(entry.flag.flag_id).status_on(today) is not flt.status:
                continue
            out.append(entry)
        return out

    def refusal(self, flag_id: str, kind: ActionKind, today: dt.date, resolution: Resolution | None,
                until: dt.date | None) -> Refusal | None:
        entry = self.entries.get(flag_id)
        return check(self.state(flag_id), kind, withdrawn=entry is not None and entry.withdrawn, today=today,
                     resolution=resolution, until=until)

    def feedback(self) -> dict[tuple[str, str], Feedback]:
        """Per (rule, unit): resolutions and times, over every flag that was acted on."""
        out: dict[tuple[str, str], Feedback] = {}
        for fid, state in self.handling.items():
            entry = self.entries.get(fid)
            if entry is None:
                continue
            fb = out.setdefault((entry.flag.rule.value, entry.flag.unit_id), Feedback())
            if state.acknowledged_at is not None:
                fb.acknowledged += 1
                fb.seconds_to_acknowledge += max(0.0, (state.acknowledged_at - entry.first_seen).total_seconds())
            if state.resolution is not None and state.resolved_at is not None:
                fb.resolved[state.resolution] = fb.resolved.get(state.resolution, 0) + 1
                fb.seconds_to_resolve += max(0.0, (state.resolved_at - entry.first_seen).total_seconds())
        return out

    def apply_all(self, flags: Iterable[tuple[Flag, dt.datetime]], actions: Iterable[FlagAction]) -> None:
        for flag, at in flags:
            self.on_flag(flag, at)
        for action in actions:
            self.on_action(action)

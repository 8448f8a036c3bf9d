"""Which programmes each person (by pseudonym) is in now, from enrolment and withdrawal events.

For each (person, programme) the latest event by event time wins (ties: the
later event id, then a joining over a leaving), so the
result does not depend on arrival order. A `ConsentChange` is what the persons stage emits for an
enrolment or a withdrawal in a programme that consent is read from.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ConsentChange:
    subject_id: str
    program: str
    joined: bool
    t: int  # event time, epoch seconds
    event_id: str


@dataclass(slots=True)
class ConsentBook:
    _latest: dict[str, dict[str, tuple[int, str, bool]]] = field(default_factory=dict)

    def apply(self, change: ConsentChange) -> None:
        programmes = self._latest.setdefault(change.subject_id, {})
        known = programmes.get(change.program)
        stamp = (change.t, change.event_id, change.joined)
        if known is None or stamp > known:  # a full order, so that even a conflicting copy is decided alike
            programmes[change.program] = stamp

    def joined(self, subject_id: str) -> frozenset[str]:
        return frozenset(p for p, (_, _, joined) in self._latest.get(subject_id, {}).items() if joined)

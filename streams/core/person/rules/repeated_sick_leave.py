"""Repeated short absence: `repeated_sick_leave_occasions` or more occasions in a rolling window.

Short repeated absence is the costly and predictive kind, so occasions (spells) are counted, not days.
Raised once when the count reaches the threshold; may be raised again after it has fallen below.
State: whether the count is at the threshold now (an episode is open).
"""

from __future__ import annotations

from streams.core.config import MonitorConfig
from streams.core.person.fold import Emits, PersonFold, Seen
from streams.core.person.rules.base import PersonRule, dated, person_flag, sick_leave_evidence
from streams.models.vocab import EventKind, Rule


class RepeatedSickLeave(PersonRule[bool]):
    rule = Rule.REPEATED_SICK_LEAVE
    kinds = frozenset({EventKind.SICK_LEAVE})  # what it looks at (a new occasion)

    def __init__(self, config: MonitorConfig) -> None:
        super().__init__(config)
        self.occasions = config.rules.repeated_sick_leave_occasions
        self.window_days = config.rules.repeated_sick_leave_window_days

    @classmethod
    def initial(cls) -> bool:
        return False

    def update(self, state: bool, fold: PersonFold, seen: Seen, subject: str, out: Emits) -> bool:
        if not seen.new_occasion:
            return state
        f = seen.fact
        n, _, inside = fold.sick_leave_window(f.day, self.window_days)
        if n < self.occasions:
            return False
        if state:
            return True
        evidence = sick_leave_evidence(self.config, fold, f.day, inside[-1].days, self.occasions,
                                       [o.start_event_id for o in inside],
                                       [dated(o.start_day, o.start_event_id, o.last_day) for o in inside])
        out.flag(person_flag(self.rule, subject, inside[-1].unit_id, f, evidence,
                                  fold.next_episode(self.rule.value)))
        return True

"""Repeated short absence: `repeated_sick_leave_occasions` or more occasions in a rolling window.

Short repeated absence is the costly and predictive kind, so occasions (spells) are counted, not days.
Raised once when the count reaches the threshold; may be raised again after it has fallen below.
"""

from __future__ import annotations

from streams.core.config import MonitorConfig
from streams.core.person.fold import Emits, PersonFold, Seen
from streams.core.person.rules.base import person_flag, sick_leave_evidence
from streams.models.vocab import EventKind, Rule


class RepeatedSickLeave:
    rule = Rule.REPEATED_SICK_LEAVE
    kinds = frozenset({EventKind.SICK_LEAVE})  # what it looks at (a new occasion)

    def __init__(self, config: MonitorConfig) -> None:
        self.config = config
        self.occasions = config.rules.repeated_sick_leave_occasions
        self.window_days = config.rules.repeated_sick_leave_window_days

    def check(self, s: PersonFold, seen: Seen, subject: str, out: Emits) -> None:
        if not seen.new_occasion:
            return
        f = seen.fact
        n, _, inside = s.sick_leave_window(f.day, self.window_days)
        if n < self.occasions:
            s.repeated_active = False
            return
        if s.repeated_active:
            return
        s.repeated_active = True
        evidence = sick_leave_evidence(self.config, s, f.day, inside[-1].days, self.occasions,
                                       [o.start_event_id for o in inside])
        out.flags_add(person_flag(self.rule, subject, inside[-1].unit_id, f, evidence, s.next_episode(self.rule.value)))

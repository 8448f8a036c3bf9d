"""Frequent emergency visits: `frequent_emergency_visits` or more ED visits in a rolling window
(a common trigger for a care-coordination review in Nära vård)."""

from __future__ import annotations

from streams.core.config import MonitorConfig
from streams.core.person.fold import Emits, PersonFold, Seen
from streams.core.person.rules.base import person_flag
from streams.core.timebase import day_to_date
from streams.models.flags import EmergencyVisitEvidence
from streams.models.vocab import EventKind, Rule


class FrequentEmergencyVisits:
    rule = Rule.FREQUENT_EMERGENCY_VISITS
    kinds = frozenset({EventKind.EMERGENCY_VISIT})

    def __init__(self, config: MonitorConfig) -> None:
        self.visits = config.rules.frequent_emergency_visits
        self.window_days = config.rules.frequent_emergency_window_days

    def check(self, s: PersonFold, seen: Seen, subject: str, out: Emits) -> None:
        f = seen.fact
        if f.kind != EventKind.EMERGENCY_VISIT:
            return
        if len(s.ed_visits) < self.visits:
            s.ed_active = False
            return
        if s.ed_active:
            return
        s.ed_active = True
        evidence = EmergencyVisitEvidence(
            window_start=day_to_date(f.day - self.window_days + 1),
            window_end=day_to_date(f.day),
            visits=len(s.ed_visits),
            threshold=self.visits,
            event_ids=[e for _, e in s.ed_visits],
        )
        out.flags_add(person_flag(self.rule, subject, f.unit_id, f, evidence, s.next_episode(self.rule.value)))

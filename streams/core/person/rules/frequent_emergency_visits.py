"""Frequent emergency visits: `frequent_emergency_visits` or more ED visits in a rolling window
(a common trigger for a care-coordination review in Nära vård). The visits in the window are a fact of
the fold (a person indicator too); the state: whether the count is at the threshold now."""

from __future__ import annotations

from streams.core.config import MonitorConfig
from streams.core.person.fold import Emits, PersonFold, Seen
from streams.core.person.rules.base import PersonRule, dated, person_flag
from streams.core.timebase import day_to_date, from_epoch, local_day
from streams.models.flags import EmergencyVisitEvidence
from streams.models.vocab import EventKind, Rule


class FrequentEmergencyVisits(PersonRule[bool]):
    rule = Rule.FREQUENT_EMERGENCY_VISITS
    kinds = frozenset({EventKind.EMERGENCY_VISIT})

    def __init__(self, config: MonitorConfig) -> None:
        super().__init__(config)
        self.visits = config.rules.frequent_emergency_visits
        self.window_days = config.rules.frequent_emergency_window_days

    @classmethod
    def initial(cls) -> bool:
        return False

    def update(self, state: bool, fold: PersonFold, seen: Seen, subject: str, out: Emits) -> bool:
        if len(fold.ed_visits) < self.visits:
            return False
        if state:
            return True
        f = seen.fact
        evidence = EmergencyVisitEvidence(
            window_start=day_to_date(f.day - self.window_days + 1),
            window_end=day_to_date(f.day),
            visits=len(fold.ed_visits),
            threshold=self.visits,
            event_ids=[e for _, e in fold.ed_visits],
            dated_events=[dated(local_day(from_epoch(t), self.config.timezone), e) for t, e in fold.ed_visits],
        )
        out.flag(person_flag(self.rule, subject, f.unit_id, f, evidence, fold.next_episode(self.rule.value)))
        return True

"""Long sick leave: one occasion reaches `long_sick_leave_days` calendar days (employer sick pay ends at
day 14, so day 15 is when the case moves to Försäkringskassan and rehabilitation planning is due).

No state: an occasion's day count grows by one a day, so it reaches the threshold on exactly one day.
"""

from __future__ import annotations

from streams.core.config import MonitorConfig
from streams.core.person.fold import Emits, PersonFold, Seen
from streams.core.person.rules.base import PersonRule, dated, person_flag, sick_leave_evidence
from streams.models.vocab import EventKind, Rule


class LongSickLeave(PersonRule[None]):
    rule = Rule.LONG_SICK_LEAVE
    kinds = frozenset({EventKind.SICK_LEAVE})  # what it looks at (an occasion)

    def __init__(self, config: MonitorConfig) -> None:
        super().__init__(config)
        self.days = config.rules.long_sick_leave_days

    @classmethod
    def initial(cls) -> None:
        return None

    def update(self, state: None, fold: PersonFold, seen: Seen, subject: str, out: Emits) -> None:
        occ = seen.occasion
        if occ is None or occ.days != self.days:
            return
        f = seen.fact
        # every sick day of the occasion (an occasion stored before they were kept: its first and this one)
        days = occ.day_events or [(occ.start_day, occ.start_event_id), (f.day, f.event_id)]
        evidence = sick_leave_evidence(self.config, fold, f.day, occ.days, self.days, [e for _, e in days],
                                       [dated(d, e) for d, e in days])
        out.flag(person_flag(self.rule, subject, occ.unit_id, f, evidence, fold.next_episode(self.rule.value)))

"""What a person rule is, and the flag it raises.

A rule reads what `PersonFacts.keep` saw of a fact (the fact, and for sick leave its occasion) and the
person's fold, and may add a flag to the step's `Emits`. A rule keeps its own small state in the fold
(e.g. whether its flag is open) so that it raises once per episode, not on every fact.
"""

from __future__ import annotations

from typing import Protocol

from streams.core.config import MonitorConfig
from streams.core.flag_ids import flag_id
from streams.core.person.facts import Fact
from streams.core.person.fold import Emits, PersonFold, Seen
from streams.core.timebase import day_to_date, from_epoch
from streams.models.flags import Evidence, Flag, SickLeaveEvidence
from streams.models.vocab import Rule


class PersonRule(Protocol):
    """A rule may also say which event kinds it looks at, `kinds = frozenset({EventKind.X, ...})`: it is
    then shown only facts of those kinds (a rule without `kinds` is shown every fact)."""

    rule: Rule

    def __init__(self, config: MonitorConfig) -> None: ...

    def check(self, s: PersonFold, seen: Seen, subject: str, out: Emits) -> None:
        """Look at the fact just kept; add a flag to `out` if the rule fires."""
        ...


def person_flag(rule: Rule, subject: str, unit_id: str, f: Fact, evidence: Evidence, episode: str) -> Flag:
    """A flag on a person (by pseudonym), raised at the fact's time. Its id is the rule's `episode` (an
    anchor that late data does not move: `PersonFold.next_episode`, or the event the episode is about),
    so the same facts give the same id on every run, and a revised episode keeps its id."""
    return Flag(
        flag_id=flag_id(rule.value, subject, episode),
        rule=rule,
        subject_kind="person",
        subject_id=subject,
        unit_id=unit_id,
        raised_at=from_epoch(f.t),
        evidence=evidence,
    )


def sick_leave_evidence(config: MonitorConfig, s: PersonFold, day: int, occasion_days: int, threshold: int,
                        event_ids: list[str]) -> SickLeaveEvidence:
    """The person's sick leave over the repeated-absence window ending on `day`."""
    window = config.rules.repeated_sick_leave_window_days
    n, days, _ = s.sick_leave_window(day, window)
    return SickLeaveEvidence(
        window_start=day_to_date(day - window + 1),
        window_end=day_to_date(day),
        occasions=n,
        sick_days=days,
        bradford_factor=n * n * days,
        occasion_days=occasion_days,
        threshold=threshold,
        event_ids=event_ids,
    )

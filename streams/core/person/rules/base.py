"""What a person rule is, and the flag it raises.

A rule is an aggregator over one person's facts in event-time order, in the shape of quix-streams'
aggregators: it declares the event kinds it reads (`kinds`), starts from `initial()`, and `update` takes
its state, what keeping the facts saw of one fact (`Seen`) and the person's shared facts (`PersonFold`)
and returns its next state, adding any flag or unit figure it concludes to `out`. The fold keeps each
rule's state under the rule's name and replays, settles and serialises it with the rest; the rule
serialises its own state (`to_dict` / `from_dict`, with `state_version` so that a rule can read what an
older version of itself wrote).

States are values: `update` returns a new state and never changes the one it was given (a bool, an int,
a tuple...), so copying a fold copies no rule state and a step taken again cannot leak into another.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Generic, TypeVar

from streams.core.config import MonitorConfig
from streams.core.flag_ids import flag_id
from streams.core.person.facts import Fact
from streams.core.person.fold import Emits, PersonFold, Seen
from streams.core.timebase import day_to_date, from_epoch
from streams.models.flags import Evidence, EvidenceEvent, Flag, SickLeaveEvidence
from streams.models.vocab import EventKind, Rule

S = TypeVar("S")

#: Every person rule defined, by its rule name (filled as rule classes are defined).
REGISTERED: dict[str, type[PersonRule]] = {}  # type: ignore[type-arg]


class PersonRule(ABC, Generic[S]):
    """Subclasses declare `rule` (its name in `streams.models.vocab.Rule`) and `kinds` (the event kinds it
    is shown); both are required, and defining the class registers it."""

    rule: ClassVar[Rule]
    kinds: ClassVar[frozenset[EventKind]]
    state_version: ClassVar[int] = 1

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        missing = [name for name in ("rule", "kinds") if name not in vars(cls)]
        if missing:
            raise TypeError(f"person rule {cls.__name__} must declare {' and '.join(missing)}")
        if not isinstance(cls.kinds, frozenset) or not cls.kinds <= frozenset(EventKind):
            raise TypeError(f"person rule {cls.__name__}: kinds must be a frozenset of EventKind")
        known = REGISTERED.get(cls.rule.value)
        if known is not None and known.__qualname__ != cls.__qualname__:
            raise TypeError(f"person rules {known.__name__} and {cls.__name__} both claim {cls.rule.value}")
        REGISTERED[cls.rule.value] = cls

    def __init__(self, config: MonitorConfig) -> None:
        self.config = config

    @classmethod
    @abstractmethod
    def initial(cls) -> S:
        """The state of a person the rule has seen nothing of (not stored: most persons are at it)."""

    @abstractmethod
    def update(self, state: S, fold: PersonFold, seen: Seen, subject: str, out: Emits) -> S:
        """The state after the fact `seen.fact` (one of `kinds`); flags and unit figures go into `out`."""

    @classmethod
    def to_dict(cls, state: S) -> object:
        """The state as JSON values (the default: states that are JSON values already)."""
        return state

    @classmethod
    def from_dict(cls, data: object, version: int) -> S:
        """A state `to_dict` wrote, by this rule's `state_version` `version` or an older one."""
        if version != cls.state_version:
            raise ValueError(f"unknown {cls.rule.value} state version {version!r}")
        return data  # type: ignore[return-value]


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
                        event_ids: list[str], dated_events: list[EvidenceEvent]) -> SickLeaveEvidence:
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
        dated_events=dated_events,
    )


def dated(day: int, event_id: str, last_day: int | None = None) -> EvidenceEvent:
    """An event behind a flag with its (local) day."""
    return EvidenceEvent(event_id=event_id, day=day_to_date(day),
                         last_day=day_to_date(last_day) if last_day is not None else None)

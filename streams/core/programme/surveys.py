"""Survey answers for programme outcomes: every admitted `survey_response`, kept by event id, and read back
per instrument as each question's answers by quarter (what `results.with_surveys` compares).

One store for the whole organisation. Replay (core/monitor.py) keeps it beside the ledgers; the worker
(agents/stages/programmes.py) keeps it in the programme-ledgers table under `SURVEYS_KEY`. Both fold with `add`,
which depends only on the set of events: a re-sent answer changes nothing (a duplicate), and two with the
same event id and other content void that id, whichever came first: neither answer is used (the rule of
person events, `conflicting_duplicate`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from streams.core.programme.months import Month, month_of_day, quarter_of
from streams.core.programme.ordinal import OrdinalScale, SurveyAnswer
from streams.core.timebase import local_day
from streams.models.events import SurveyResponse

SCHEMA_VERSION = 1
#: The store's key in the worker's programme-ledgers table. Pseudonyms are "p_" and hex digits: never this.
SURVEYS_KEY = "@surveys"

Survey = tuple[OrdinalScale, list[SurveyAnswer]]  # one question's answers on one scale


class Folded(StrEnum):
    """What `add` did with an answer."""

    ADDED = "added"
    DUPLICATE = "duplicate"  # the same answer again (a re-send): nothing changes
    CONFLICTING = "conflicting"  # its event id came with other content: the id is void, neither is used
    VOID = "void"  # its event id is void already

    @property
    def changed(self) -> bool:
        return self is Folded.ADDED or self is Folded.CONFLICTING


def _when(row: list[Any]) -> int:
    """An answer's time, epoch seconds (rows stored before it was kept: the start of their day)."""
    return int(row[8]) if len(row) > 8 else int(row[4]) * 86400


@dataclass(slots=True)
class SurveyStore:
    """Mutated in place by `add`; rows are replaced, never changed, so `snapshot` copies the dict only."""

    # event_id -> [instrument, question, scale, answer, day, person (a pseudonym) or None, unit, organisation,
    # occurred_at in epoch seconds], or None: the id came with two contents and is void
    answers: dict[str, list[Any] | None] = field(default_factory=dict)

    def add(self, event: SurveyResponse, tz: str = "Europe/Stockholm") -> Folded:
        """Fold one admitted, pseudonymised answer in."""
        row = [event.instrument, event.question, event.scale, event.answer, local_day(event.occurred_at, tz),
               event.person_id, event.unit_id, event.organisation, int(event.occurred_at.timestamp())]
        if event.event_id not in self.answers:
            self.answers[event.event_id] = row
            return Folded.ADDED
        old = self.answers[event.event_id]
        if old is None:
            return Folded.VOID
        if old == row:
            return Folded.DUPLICATE
        self.answers[event.event_id] = None
        return Folded.CONFLICTING

    def surveys(self, instrument: str, scales: Mapping[str, tuple[str, ...]], up_to: Month) -> list[Survey]:
        """Per question of `instrument` (and scale), its answers up to the month `up_to`, each with the
        quarter it was given in as its period. Answers on a scale no longer declared, or on a level it no
        longer has, are left out (the configuration changed after they were admitted)."""
        by_question: dict[tuple[str, str], list[SurveyAnswer]] = {}
        # A person counts once per question and quarter (their latest answer): distributions and tests count
        # respondents, not answers, so one person answering weekly is neither a group nor eleven witnesses.
        # Anonymous answers cannot be told apart and count one each.
        latest: dict[tuple[str, str, str, str], tuple[int, str, SurveyAnswer]] = {}
        for event_id, row in sorted(self.answers.items()):
            if row is None:
                continue  # a void id: neither of its answers is used
            instr, question, scale, answer, day, person = row[:6]
            if instr != instrument or answer not in scales.get(scale, ()):
                continue
            month = month_of_day(day)
            if month > up_to:
                continue
            one = SurveyAnswer(instr, question, answer, period=quarter_of(month), person=person)
            if person is None:
                by_question.setdefault((question, scale), []).append(one)
                continue
            key = (question, scale, one.period, person)
            if key not in latest or (_when(row), event_id) > latest[key][:2]:
                latest[key] = (_when(row), event_id, one)
        for (question, scale, _, _), (_, _, one) in sorted(latest.items()):
            by_question.setdefault((question, scale), []).append(one)
        return [(OrdinalScale(scale, scales[scale]), answers)
                for (_, scale), answers in sorted(by_question.items())]

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA_VERSION, "answers": self.answers}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SurveyStore:
        if d.get("schema") != SCHEMA_VERSION:
            raise ValueError(f"survey store schema {d.get('schema')!r}, expected {SCHEMA_VERSION}")
        return cls({k: None if v is None else list(v) for k, v in d["answers"].items()})


def step(state: dict[str, Any] | None, event: SurveyResponse,
         tz: str = "Europe/Stockholm") -> tuple[dict[str, Any], Folded]:
    """State in, state out (what a stream processor keeps under `SURVEYS_KEY`), and what the answer did."""
    store = SurveyStore.from_dict(state) if state else SurveyStore()
    folded = store.add(event, tz)
    return store.to_dict(), folded

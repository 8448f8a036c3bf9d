"""Survey answers for programme outcomes: every admitted `survey_response`, kept by event id, and read back
per instrument as each question's answers by quarter (what `results.with_surveys` compares).

One store for the whole organisation. Replay (core/monitor.py) keeps it beside the ledgers; the worker
(agents/stages/programmes.py) keeps it in the programme-ledgers table under `SURVEYS_KEY`. Both fold with `add`,
which depends only on the set of events: a re-sent answer changes nothing, and of two with the same
event id and other content the smaller is kept, whichever came first (as the ledger does).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from streams.core.programme.months import Month, month_of_day, quarter_of
from streams.core.programme.ordinal import OrdinalScale, SurveyAnswer
from streams.core.timebase import local_day
from streams.models.events import SurveyResponse

SCHEMA_VERSION = 1
#: The store's key in the worker's programme-ledgers table. Pseudonyms are "p_" and hex digits: never this.
SURVEYS_KEY = "@surveys"

Survey = tuple[OrdinalScale, list[SurveyAnswer]]  # one question's answers on one scale


@dataclass(slots=True)
class SurveyStore:
    """Mutated in place by `add`; rows are replaced, never changed, so `snapshot` copies the dict only."""

    # event_id -> [instrument, question, scale, answer, day, person (a pseudonym) or None, unit, organisation]
    answers: dict[str, list[Any]] = field(default_factory=dict)

    def add(self, event: SurveyResponse, tz: str = "Europe/Stockholm") -> bool:
        """Fold one admitted, pseudonymised answer in; False when it changed nothing."""
        row = [event.instrument, event.question, event.scale, event.answer, local_day(event.occurred_at, tz),
               event.person_id, event.unit_id, event.organisation]
        old = self.answers.get(event.event_id)
        if old is not None and (old == row or json.dumps(row) >= json.dumps(old)):
            return False
        self.answers[event.event_id] = row
        return True

    def surveys(self, instrument: str, scales: Mapping[str, tuple[str, ...]], up_to: Month) -> list[Survey]:
        """Per question of `instrument` (and scale), its answers up to the month `up_to`, each with the
        quarter it was given in as its period. Answers on a scale no longer declared, or on a level it no
        longer has, are left out (the configuration changed after they were admitted)."""
        by_question: dict[tuple[str, str], list[SurveyAnswer]] = {}
        # A person counts once per question and quarter (their latest answer): distributions and tests count
        # respondents, not answers, so one person answering weekly is neither a group nor eleven witnesses.
        # Anonymous answers cannot be told apart and count one each.
        latest: dict[tuple[str, str, str, str], tuple[int, str, SurveyAnswer]] = {}
        for event_id, (instr, question, scale, answer, day, person, _, _) in sorted(self.answers.items()):
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
            if key not in latest or (day, event_id) > latest[key][:2]:
                latest[key] = (day, event_id, one)
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
        return cls({k: list(v) for k, v in d["answers"].items()})


def step(state: dict[str, Any] | None, event: SurveyResponse,
         tz: str = "Europe/Stockholm") -> tuple[dict[str, Any], bool]:
    """State in, state out (what a stream processor keeps under `SURVEYS_KEY`), and whether it changed."""
    store = SurveyStore.from_dict(state) if state else SurveyStore()
    changed = store.add(event, tz)
    return store.to_dict(), changed

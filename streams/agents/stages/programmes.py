"""Programme outcomes, live: each person event the persons stage accepted (sent on only when programmes are
configured) goes into its person's ledger (core/programme/stage.py), and each survey answer the door
admitted into the survey store; at most every `programme_refresh_s`, and only when a ledger or the store
changed, the figures of every configured programme for the current quarter are computed again and sent to
the programme-figures topic (key "<programme>/<quarter>") and to /metrics. State: the `programme-ledgers`
table, by pseudonym, and the survey store under `SURVEYS_KEY`; one partition (a programme's figures need
everyone).

The figures are computed in a thread, on copies of the ledgers taken in one go on the event loop, so the
agent goes on folding events meanwhile; they are the same figures replay computes from the same ledgers.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

from streams.agents.runtime.codec import dumps, loads_dict
from streams.agents.runtime.context import BATCH_MESSAGES, WITHIN_S, WorkerContext
from streams.agents.runtime.messages import PersonEnvelope, PersonEventBatch, read_internal
from streams.agents.runtime.outputs import MetricCounts, Outputs
from streams.agents.runtime.records import InputRecord
from streams.agents.runtime.stage_work import Item
from streams.agents.runtime.state_cache import BatchStates
from streams.core.programme.ledger import PersonLedger
from streams.core.programme.stage import ProgrammeFigures
from streams.core.programme.surveys import SURVEYS_KEY, SurveyStore
from streams.core.stages import survey_counted
from streams.models.events import EVENT_ADAPTER, Staffing, SurveyResponse
from streams.models.rejections import Rejection

log = logging.getLogger(__name__)


@dataclass
class ProgrammeBatch:
    states: BatchStates[PersonLedger]
    surveys: BatchStates[SurveyStore]  # the one store, under SURVEYS_KEY
    out: Outputs
    counts: MetricCounts  # survey answers: accepted, duplicate or conflicting here, where their store is


class Programmes:
    def __init__(self, p: WorkerContext) -> None:
        self.p, self.stage = p, p.programme_stage
        self.changed = True  # after a start, the figures are computed once from the recovered table
        self.computing = False

    def begin(self) -> ProgrammeBatch:
        out = Outputs()
        return ProgrammeBatch(BatchStates(self.p.programme_cache), BatchStates(self.p.survey_cache), out,
                              MetricCounts(self.p.metrics, out))

    def items(self, record: InputRecord) -> list[Item[PersonEnvelope]] | Rejection:
        packed = read_internal(PersonEventBatch, record)
        if isinstance(packed, Rejection):
            return packed
        return [Item(record, env, raw=env.event_json()) for env in packed.events]

    def apply(self, batch: ProgrammeBatch, item: Item[PersonEnvelope]) -> None:
        env = item.value
        event = EVENT_ADAPTER.validate_json(item.raw or b"")
        item.event_id = event.event_id
        if isinstance(event, Staffing):  # never sent here; a unit's report has no ledger
            return
        if isinstance(event, SurveyResponse):  # from the door (agents/stages/ingest.py), deduplicated by event_id
            folded = self.stage.survey_step(batch.surveys.get(SURVEYS_KEY), event)
            if folded.changed:
                batch.surveys.mark_changed(SURVEYS_KEY)
            rejection = survey_counted(folded, event, int(event.occurred_at.timestamp()), env.arrival,
                                       env.source_offset, batch.counts)
            if rejection is not None:
                batch.out.rejections.append((rejection, item.raw))
            return
        if self.stage.step(batch.states.get(env.pseudonym), event):
            batch.states.mark_changed(env.pseudonym)

    def close(self, batch: ProgrammeBatch) -> None:
        pass

    async def send(self, batch: ProgrammeBatch) -> list[Any]:
        return await self.p.send_outputs(batch.out)

    def write(self, batch: ProgrammeBatch) -> None:
        if batch.states.write(dumps):
            self.changed = True
        if batch.surveys.write(dumps):
            self.changed = True

    def done(self, batch: ProgrammeBatch) -> None:
        batch.out.count()

    def _figures(self, stored: list[tuple[str, bytes]]) -> tuple[dict[str, PersonLedger], list[ProgrammeFigures]]:
        ledgers, surveys = decode_stored(stored)
        return ledgers, self.stage.figures(ledgers, None, None, surveys)

    async def refresh(self) -> list[ProgrammeFigures]:
        """The figures again, if a ledger changed since they were last computed; sent and published."""
        if self.computing or not self.changed or not self.p.ready():
            return []
        self.computing, self.changed = True, False
        try:
            # on the loop only the stored bytes are collected (no batch writes in between); decoding and
            # the figures run in a thread, so the loop keeps serving the agents and the group's heartbeats
            stored = self.p.programme_cache.stored_values()
            ledgers, figures = await asyncio.to_thread(self._figures, stored)
            pending = []
            for f in figures:
                document = f.results.published()
                self.p.programmes_to_publish[f.programme] = document
                pending.append(await self.p.send(self.p.names.programme_figures, f.key,
                                                 figures_json(document)))
            await asyncio.gather(*pending)
            log.info("programme figures computed from %d ledgers: %s", len(ledgers),
                     ", ".join(f.key for f in figures) or "no complete month yet")
            return figures
        except Exception:
            self.changed = True  # tried again at the next refresh
            raise
        finally:
            self.computing = False


def decode_stored(stored: list[tuple[str, bytes]]) -> tuple[dict[str, PersonLedger], SurveyStore]:
    """The ledgers (by pseudonym) and the survey store of the programme-ledgers table's values."""
    ledgers: dict[str, PersonLedger] = {}
    surveys = SurveyStore()
    for key, raw in stored:
        if key == SURVEYS_KEY:
            surveys = SurveyStore.from_dict(loads_dict(raw))
        else:
            ledgers[key] = PersonLedger.from_dict(loads_dict(raw))
    return ledgers, surveys


def figures_json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def register(p: WorkerContext) -> Any:
    if not p.programme_stage.enabled:
        return None
    work = Programmes(p)
    p.stage_agent("programmes", p.names.programme_events, work, BATCH_MESSAGES, WITHIN_S,
                  positions=p.programme_positions, partitions=1)

    @p.app.timer(interval=p.settings.programme_refresh_s, name="programme-figures")
    async def figures() -> None:
        try:
            await work.refresh()
        except Exception as exc:  # a defect in the figures must not stop the worker; logged, tried again
            log.error("programme figures failed (%s); tried again at the next refresh", type(exc).__name__)
            log.debug("programme figures failed", exc_info=True)

    return work

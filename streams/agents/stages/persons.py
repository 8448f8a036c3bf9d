"""Per person: the rules (repeated and long sick leave, readmission, frequent ED visits) and what each
event changes in the person's units. State: the `persons` table, keyed by pseudonym."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from sys import intern
from typing import Any

from msgspec.structs import replace

from streams.agents.runtime.codec import dumps
from streams.agents.runtime.context import (
    BATCH_MESSAGES,
    UNIT_PARTITIONS,
    WITHIN_S,
    WorkerContext,
)
from streams.agents.runtime.messages import (
    PersonEnvelope,
    PersonEventBatch,
    encode,
    read_internal,
)
from streams.agents.runtime.outputs import MetricCounts, Outputs
from streams.agents.runtime.records import InputRecord
from streams.agents.runtime.stage_work import Item
from streams.agents.runtime.state_cache import BatchStates
from streams.core.person.tracker import PersonState
from streams.core.stages import Admitted, PersonInput, PersonStage, UnitUpdate, person_input
from streams.models.events import EVENT_ADAPTER
from streams.models.handling import ConsentRecord
from streams.models.rejections import Rejection


@dataclass
class PersonsBatch:
    states: BatchStates[PersonState]
    out: Outputs
    counts: MetricCounts
    started: list[float] = field(default_factory=list)


class Persons:
    def __init__(self, p: WorkerContext) -> None:
        self.p, self.stage, self.metrics = p, PersonStage(p.config), p.metrics
        self.to_programmes = p.programme_stage.enabled

    def begin(self) -> PersonsBatch:
        out = Outputs()
        return PersonsBatch(BatchStates(self.p.person_cache), out, MetricCounts(self.metrics, out))

    def items(self, record: InputRecord) -> list[Item[PersonEnvelope | UnitUpdate]] | Rejection:
        packed = read_internal(PersonEventBatch, record)
        if isinstance(packed, Rejection):
            return packed
        items: list[Item[PersonEnvelope | UnitUpdate]] = [Item(record, m) for m in packed.staffing]
        return items + [Item(record, env, raw=env.event_json()) for env in packed.events]

    def apply(self, batch: PersonsBatch, item: Item[PersonEnvelope | UnitUpdate]) -> None:
        if isinstance(item.value, UnitUpdate):  # a staffing report on its way to its unit
            batch.out.outbox(self.p.names.unit_updates, "updates", UNIT_PARTITIONS).add(
                item.value.unit_id, encode(item.value))
            return
        env, out, p = item.value, batch.out, self.p
        person = self.person_input(env, item.raw or b"")
        item.event_id = person.fact.event_id
        step = self.stage.step(batch.states.get(env.pseudonym), person, batch.counts)
        if step.rejection is not None:
            out.rejections.append((step.rejection, item.raw))
        if step.state_changed:  # taken (late facts folded in by the step, as in replay), or its place marked
            batch.states.mark_changed(env.pseudonym)
        if not step.accepted:
            return
        if self.to_programmes and step.to_programmes:  # the programme ledgers: agents/stages/programmes.py
            out.outbox(p.names.programme_events, "events", 1).add(env.pseudonym, encode(env))
        out.flags += step.flags
        for change in step.consent:
            record = ConsentRecord(subject_id=change.subject_id, program=change.program, joined=change.joined,
                                   t=change.t, event_id=change.event_id)
            out.keyed.append((p.names.consent, f"{change.subject_id}/{change.program}",
                              record.model_dump_json().encode()))
        units = out.outbox(p.names.unit_updates, "updates", UNIT_PARTITIONS)
        for update in step.unit_updates:
            update.source_offset = env.source_offset
            units.add(update.unit_id, encode(update))
        batch.started.append(env.ingested_at)

    def person_input(self, env: PersonEnvelope, event_json: bytes) -> PersonInput:
        """What the person stage reads of an event: as the door made it, or, in a message of a release that
        sent only the event, made from the event the same way."""
        if env.fact is not None:
            # one string object per unit id, as the door's facts and the stored states' have
            fact = replace(env.fact, unit_id=intern(env.fact.unit_id))
            return PersonInput(env.pseudonym, fact, env.organisation, env.arrival, env.source_offset)
        event = EVENT_ADAPTER.validate_json(event_json)
        return person_input(Admitted(event, env.pseudonym, env.arrival, env.source_offset), self.p.config.timezone)

    def close(self, batch: PersonsBatch) -> None:
        pass

    async def send(self, batch: PersonsBatch) -> list[Any]:
        return await self.p.send_outputs(batch.out)

    def write(self, batch: PersonsBatch) -> None:
        batch.states.write(dumps)
        now = time.time()  # the outputs are acknowledged: what the latency measures ends here
        for t in batch.started:
            self.metrics.processing_latency.observe(max(0.0, now - t))

    def done(self, batch: PersonsBatch) -> None:
        batch.out.count()


def register(p: WorkerContext) -> Any:
    return p.stage_agent("persons", p.names.person_events, Persons(p), BATCH_MESSAGES, WITHIN_S,
                         held=[p.person_cache])

"""Per person: the rules (repeated and long sick leave, readmission, frequent ED visits) and what each
event changes in the person's units. State: the `persons` table, keyed by pseudonym."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from streams.agents.codec import dumps
from streams.agents.outputs import MetricCounts, Outputs
from streams.agents.pipeline import (
    BATCH_MESSAGES,
    UNIT_PARTITIONS,
    WITHIN_S,
    Pipeline,
    read_internal,
)
from streams.agents.records import InputRecord
from streams.agents.shipping import unit_update_json
from streams.agents.stage_agent import Item
from streams.agents.state_cache import BatchStates
from streams.core.person.tracker import PersonState
from streams.core.stages import Admitted, PersonStage
from streams.models.events import EVENT_ADAPTER
from streams.models.internal import PersonEnvelope, PersonEventBatch, UnitUpdateMessage
from streams.models.rejections import Rejection


class InjectedFault(RuntimeError):
    """Raised for the event id set in `fail_on_event_id`: how the tests prove a defect is isolated."""


@dataclass
class PersonsBatch:
    states: BatchStates[PersonState]
    out: Outputs
    counts: MetricCounts
    started: list[float] = field(default_factory=list)
    late: dict[str, str | None] = field(default_factory=dict)  # pseudonym -> where its last late fact came from


class Persons:
    def __init__(self, p: Pipeline) -> None:
        self.p, self.stage, self.metrics = p, PersonStage(p.config), p.metrics
        self.fail_on = p.settings.fail_on_event_id

    def begin(self) -> PersonsBatch:
        out = Outputs()
        return PersonsBatch(BatchStates(self.p.person_cache), out, MetricCounts(self.metrics, out))

    def items(self, record: InputRecord) -> list[Item[PersonEnvelope | UnitUpdateMessage]] | Rejection:
        packed = read_internal(PersonEventBatch, record)
        if isinstance(packed, Rejection):
            return packed
        items: list[Item[PersonEnvelope | UnitUpdateMessage]] = [
            Item(record, m, raw=m.model_dump_json().encode()) for m in packed.staffing]
        return items + [Item(record, env, raw=env.event.encode()) for env in packed.events]

    def apply(self, batch: PersonsBatch, item: Item[PersonEnvelope | UnitUpdateMessage]) -> None:
        if isinstance(item.value, UnitUpdateMessage):  # a staffing report on its way to its unit
            batch.out.outbox(self.p.names.unit_updates, "updates", UNIT_PARTITIONS).add(
                item.value.unit_id, item.value.model_dump_json())
            return
        env, out, p = item.value, batch.out, self.p
        event = EVENT_ADAPTER.validate_json(env.event)
        item.event_id = event.event_id
        if self.fail_on is not None and event.event_id == self.fail_on:
            raise InjectedFault("fault injected for a test")
        admitted = Admitted(event, env.pseudonym, env.arrival, env.source_offset)
        step = self.stage.step(batch.states.get(env.pseudonym), admitted, batch.counts)
        if step.rejection is not None:
            out.rejections.append((step.rejection, env.event.encode()))
        if not step.accepted:
            return
        batch.states.mark_changed(env.pseudonym)
        if batch.states.get(env.pseudonym).late_from is not None:
            batch.late[env.pseudonym] = env.source_offset
        out.flags += step.flags
        units = out.outbox(p.names.unit_updates, "updates", UNIT_PARTITIONS)
        for update in step.unit_updates:
            units.add(update.unit_id, unit_update_json(update, env.source_offset))
        batch.started.append(env.ingested_at)

    def close(self, batch: PersonsBatch) -> None:
        """Late facts are folded in once per batch and person (core/person/tracker.py), before the
        states are written."""
        units = batch.out.outbox(self.p.names.unit_updates, "updates", UNIT_PARTITIONS)
        for pseudonym, where in sorted(batch.late.items()):
            step = self.stage.flush(batch.states.get(pseudonym), pseudonym)
            batch.out.flags += step.flags
            for update in step.unit_updates:
                units.add(update.unit_id, unit_update_json(update, where))

    async def send(self, batch: PersonsBatch) -> list[Any]:
        return await self.p.send_outputs(batch.out)

    def write(self, batch: PersonsBatch) -> None:
        batch.states.write(dumps)

    def done(self, batch: PersonsBatch) -> None:
        batch.out.count()
        now = time.time()
        for t in batch.started:
            self.metrics.processing_latency.observe(max(0.0, now - t))


def register(p: Pipeline) -> Any:
    return p.stage_agent("persons", p.names.person_events, Persons(p), BATCH_MESSAGES, WITHIN_S)

"""The door: the admit step (decode, validate, arrival header, pseudonymise) on each input record;
rejections to the dead-letter topic; person events on, batched by the partition their pseudonym hashes
to; staffing reports on the same path, keyed by unit; survey answers straight to the programmes (when
any is configured). Stateless."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

import msgspec

from streams.agents.runtime.context import WorkerContext
from streams.agents.runtime.messages import PersonEnvelope, encode
from streams.agents.runtime.outputs import MetricCounts, Outputs
from streams.agents.runtime.records import InputRecord
from streams.agents.runtime.stage_work import Item
from streams.core.arrival import arrival_of
from streams.core.pseudonym import Pseudonymiser
from streams.core.stages import Admit, Destination, person_input, route, staffing_update
from streams.core.timebase import epoch
from streams.models.events import Event, Staffing
from streams.models.rejections import Rejection

BATCH = 500
WITHIN_S = 0.05
#: Pseudonyms whose sealed source key this process has sent (each is sent once per process lifetime;
#: the identities topic is compacted, so a restart sends a person's again once, harmlessly).
SEALED_REMEMBERED = 200_000


@dataclass
class IngestBatch:
    counts: MetricCounts
    out: Outputs
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


class Ingest:
    def __init__(self, p: WorkerContext) -> None:
        self.p = p
        self.admit = Admit(p.config, Pseudonymiser(p.settings.pseudonym_key_bytes()))
        self.sealed: dict[str, None] = {}

    def begin(self) -> IngestBatch:
        out = Outputs()
        return IngestBatch(MetricCounts(self.p.metrics, out), out)

    def items(self, record: InputRecord) -> list[Item[None]] | Rejection:
        return [Item(record, None, raw=record.value)]

    def apply(self, batch: IngestBatch, item: Item[None]) -> None:
        record, out, p = item.record, batch.out, self.p
        arrival = arrival_of(record.headers, record.timestamp_ms, record.where)

        def arrived(_: Event) -> int | Rejection:
            return arrival if isinstance(arrival, Rejection) else arrival.seconds

        admitted = self.admit(record.value, batch.now, record.where, arrived, batch.counts)
        if isinstance(admitted, Rejection):
            out.rejections.append((admitted, record.value))
            return
        event = admitted.event
        destination, key = route(admitted)
        if destination is Destination.STAFFING:
            assert isinstance(event, Staffing)
            # through the persons stage, keyed by unit: see PersonEventBatch.staffing
            update = staffing_update(event, admitted.arrival, p.config.timezone)
            update.source_offset = record.where
            out.outbox(p.names.person_events, "staffing", p.partitions).add(key, encode(update))
            return
        subject = key
        if destination is Destination.SURVEY and not p.programme_stage.enabled:
            # dropped when no programme is followed; otherwise counted where the store is (agents/stages/programmes.py)
            occurred = admitted.occurred if admitted.occurred is not None else epoch(event.occurred_at)
            batch.counts.accepted(event.event_type, occurred, admitted.arrival)
            return
        event_json = msgspec.Raw(admitted.pseudonymised_json())
        if destination is Destination.SURVEY:
            envelope = encode(PersonEnvelope(subject, admitted.arrival, record.where, event_json, time.time()))
            out.outbox(p.names.programme_events, "events", 1).add(subject, envelope)
            return
        person = person_input(admitted, p.config.timezone)
        envelope = encode(PersonEnvelope(subject, admitted.arrival, record.where, event_json, time.time(),
                                         person.fact, person.organisation))
        out.outbox(p.names.person_events, "events", p.partitions).add(subject, envelope)
        if p.vault is not None and subject and subject not in self.sealed:
            person_id = getattr(event, "person_id", None)
            if person_id:
                out.keyed.append((p.names.identities, subject, p.vault.seal(subject, person_id)))
                self.sealed[subject] = None
                if len(self.sealed) > SEALED_REMEMBERED:
                    del self.sealed[next(iter(self.sealed))]

    def close(self, batch: IngestBatch) -> None:
        pass

    async def send(self, batch: IngestBatch) -> list[Any]:
        return await self.p.send_outputs(batch.out)

    def write(self, batch: IngestBatch) -> None:
        pass

    def done(self, batch: IngestBatch) -> None:
        batch.out.count()


def register(p: WorkerContext) -> Any:
    # read in bulk, on the partitions of person-events faust assigns this worker (agents/runtime/bulk_input.py)
    return p.stage_agent("ingest", p.names.events, Ingest(p), BATCH, WITHIN_S,
                        follows=p.names.person_events)

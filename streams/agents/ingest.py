"""The door: decode and validate each input record, read its arrival header, reject what fails
(dead-letter topic), pseudonymise the person, and pass the event on, batched by the partition its
pseudonym hashes to (staffing reports straight to their unit). Stateless."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

from streams.agents.pipeline import Outputs, Pipeline
from streams.agents.records import InputRecord
from streams.agents.shipping import unit_update_json
from streams.agents.stage_agent import Item
from streams.core.arrival import arrival_of
from streams.core.decode import decode_event
from streams.core.pseudonym import Pseudonymiser
from streams.core.stages import staffing_update
from streams.models.events import Staffing
from streams.models.internal import PersonEnvelope
from streams.models.rejections import Rejection

BATCH = 500
WITHIN_S = 0.05


@dataclass
class IngestBatch:
    out: Outputs = field(default_factory=Outputs)
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


class Ingest:
    def __init__(self, p: Pipeline) -> None:
        self.p, self.config = p, p.config
        self.pseudonymise = Pseudonymiser(p.settings.pseudonym_key_bytes())
        self.max_future = dt.timedelta(hours=p.config.max_future_hours)

    def begin(self) -> IngestBatch:
        return IngestBatch()

    def items(self, record: InputRecord) -> list[Item[None]] | Rejection:
        return [Item(record, None, raw=record.value)]

    def apply(self, batch: IngestBatch, item: Item[None]) -> None:
        record, out, p = item.record, batch.out, self.p
        decoded = decode_event(record.value, batch.now, max_bytes=self.config.max_message_bytes,
                               max_future=self.max_future, source_offset=record.where)
        if isinstance(decoded, Rejection):
            out.rejections.append((decoded, record.value))
            return
        arrival = arrival_of(record.headers, record.timestamp_ms, record.where)
        if isinstance(arrival, Rejection):
            out.rejections.append((arrival.model_copy(update={"event_id": decoded.event_id}), record.value))
            return
        if isinstance(decoded, Staffing):
            # through the persons stage, keyed by unit: see PersonEventBatch.staffing
            update = staffing_update(decoded, arrival.seconds, self.config.timezone)
            out.outbox(p.names.person_events, "staffing", p.partitions).add(
                update.unit_id, unit_update_json(update, record.where))
            return
        pseudonym = self.pseudonymise(decoded.person_id)
        body = decoded.model_copy(update={"person_id": pseudonym}).model_dump_json()
        envelope = PersonEnvelope(pseudonym=pseudonym, arrival=arrival.seconds, source_offset=record.where,
                                  event=body, ingested_at=time.time())
        out.outbox(p.names.person_events, "events", p.partitions).add(pseudonym, envelope.model_dump_json())

    def close(self, batch: IngestBatch) -> None:
        pass

    async def send(self, batch: IngestBatch) -> list[Any]:
        return await self.p.send_outputs(batch.out)

    def write(self, batch: IngestBatch) -> None:
        pass

    def done(self, batch: IngestBatch) -> None:
        batch.out.count()


def register(p: Pipeline) -> Any:
    return p.stage_agent("ingest", p.names.events, Ingest(p), BATCH, WITHIN_S)

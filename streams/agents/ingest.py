"""The door: decode and validate each input record, reject what fails (dead-letter topic), pseudonymise
the person, and pass the event on, batched by the partition its pseudonym hashes to. Stateless."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from streams.agents.pipeline import Outbox, Pending, Pipeline
from streams.agents.shipping import unit_update_json
from streams.core.decode import decode_event
from streams.core.pseudonym import Pseudonymiser
from streams.core.stages import staffing_update
from streams.models.events import ARRIVAL_HEADER, Staffing
from streams.models.internal import PersonEnvelope
from streams.models.rejections import Rejection

BATCH = 500
WITHIN_S = 0.05


def arrival_of(message: Any) -> int:
    """The record's arrival time in event-time terms: the `om-arrival` header that `publish` sets for a
    replayed file, else the record timestamp (what any other client's record carries)."""
    headers = message.headers or ()
    items = headers.items() if isinstance(headers, dict) else headers
    for name, value in items:
        if name == ARRIVAL_HEADER and value:
            try:
                return int(value)
            except ValueError:
                break
    return int(message.timestamp)


def register(p: Pipeline) -> Any:
    config = p.config
    pseudonymise = Pseudonymiser(p.settings.pseudonym_key_bytes())
    max_future = dt.timedelta(hours=config.max_future_hours)

    @p.app.agent(p.topic(p.names.events), name="ingest", concurrency=1)
    async def ingest(stream: Any) -> None:
        async for batch in stream.take_events(BATCH, within=WITHIN_S):
            pending: Pending = []
            persons, units = Outbox("events", p.partitions), Outbox("updates", p.partitions)
            now = dt.datetime.now(dt.UTC)
            for event in batch:
                msg = event.message
                offset = f"{msg.topic}/{msg.partition}/{msg.offset}"
                raw = event.value if isinstance(event.value, bytes) else bytes(event.value or b"")
                decoded = decode_event(raw, now, max_bytes=config.max_message_bytes, max_future=max_future,
                                       source_offset=offset)
                if isinstance(decoded, Rejection):
                    await p.reject(decoded, raw, pending)
                    continue
                arrival = arrival_of(msg)
                if isinstance(decoded, Staffing):
                    update = staffing_update(decoded, arrival, config.timezone)
                    units.add(update.unit_id, unit_update_json(update, offset))
                    continue
                pseudonym = pseudonymise(decoded.person_id)
                body = decoded.model_copy(update={"person_id": pseudonym}).model_dump_json()
                envelope = PersonEnvelope(pseudonym=pseudonym, arrival=arrival, source_offset=offset,
                                          event=body, ingested_at=time.time())
                persons.add(pseudonym, envelope.model_dump_json())
            await p.send_outbox(p.names.person_events, persons, pending)
            await p.send_outbox(p.names.unit_updates, units, pending)
            # Stateless: the offset commit flushes the producer first, so no wait is needed here.

    return ingest

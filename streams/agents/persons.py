"""Per person: the rules (repeated and long sick leave, readmission, frequent ED visits) and what each
event changes in the person's units. State: the `persons` table, keyed by pseudonym."""

from __future__ import annotations

import time
from typing import Any

from streams.agents.codec import dumps
from streams.agents.pipeline import BATCH_MESSAGES, WITHIN_S, Outbox, Pending, Pipeline
from streams.agents.shipping import unit_update_json
from streams.agents.state_cache import BatchStates
from streams.core.lateness import too_late
from streams.core.person import Outcome
from streams.core.stages import PersonStage
from streams.core.timebase import epoch
from streams.models.events import EVENT_ADAPTER
from streams.models.internal import PersonEventBatch

LATE_S = 86400


def register(p: Pipeline) -> Any:
    stage = PersonStage(p.config)
    metrics, cache = p.metrics, p.person_cache

    @p.app.agent(p.topic(p.names.person_events), name="persons", concurrency=1)
    async def persons(stream: Any) -> None:
        async for batch in stream.take_events(BATCH_MESSAGES, within=WITHIN_S):
            states = BatchStates(cache)
            pending: Pending = []
            units = Outbox("updates", p.partitions)
            started: list[float] = []
            for message in batch:
                packed = await p.read(PersonEventBatch, message, pending)
                for env in packed.events if packed else ():
                    state = states.get(env.pseudonym)
                    event = EVENT_ADAPTER.validate_json(env.event)
                    result = stage.handle(state, event, env.arrival, env.pseudonym)  # type: ignore[arg-type]
                    if result.outcome is Outcome.DUPLICATE:
                        metrics.events_duplicate.inc()
                        continue
                    if result.outcome is Outcome.TOO_LATE:
                        rejection = too_late(p.config, env.arrival, event.event_id, env.source_offset)
                        await p.reject(rejection, env.event.encode(), pending)
                        continue
                    states.mark_changed(env.pseudonym)
                    etype = event.event_type
                    occurred = epoch(event.occurred_at)
                    metrics.events_consumed.labels(etype).inc()
                    metrics.event_age.labels(etype).observe(max(0, time.time() - occurred))
                    if env.arrival - occurred > LATE_S:
                        metrics.events_late.labels(etype).inc()
                    await p.send_flags(result.flags, pending)
                    for update in result.unit_updates:
                        units.add(update.unit_id, unit_update_json(update, env.source_offset))
                    started.append(env.ingested_at)
            await p.send_outbox(p.names.unit_updates, units, pending)
            for fut in pending:
                await fut
            states.write(dumps)
            done = time.time()
            for t in started:
                metrics.processing_latency.observe(max(0.0, done - t))

    return persons

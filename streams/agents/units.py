"""Per unit: day-by-day sick leave, occasions, staffing and care presence; sends each changed unit-day
to the organisation stage. State: the `units` table, keyed by unit id."""

from __future__ import annotations

from typing import Any

from streams.agents.codec import dumps
from streams.agents.pipeline import ORG_KEY, Outbox, Pending, Pipeline
from streams.agents.shipping import unit_update_of
from streams.agents.state_cache import BatchStates
from streams.core.lateness import too_late
from streams.core.stages import UnitStage
from streams.core.unit import DaySummary
from streams.models.internal import DaySummaryMessage, UnitUpdateBatch

#: A unit's state holds every person it counts (for re-send recognition and the care population), so
#: writing it is the costliest thing the worker does; units therefore work in larger, less frequent
#: batches. This delays unit figures and drift (weekly) by at most UNITS_WITHIN_S, not person flags.
UNITS_BATCH_MESSAGES = 256
UNITS_WITHIN_S = 0.5


def register(p: Pipeline) -> Any:
    stage = UnitStage(p.config)
    metrics, cache = p.metrics, p.unit_cache

    @p.app.agent(p.topic(p.names.unit_updates), name="units", concurrency=1)
    async def units(stream: Any) -> None:
        async for batch in stream.take_events(UNITS_BATCH_MESSAGES, within=UNITS_WITHIN_S):
            states = BatchStates(cache)
            summaries: dict[tuple[str, int], DaySummary] = {}
            pending: Pending = []
            for message in batch:
                packed = await p.read(UnitUpdateBatch, message, pending)
                for msg in packed.updates if packed else ():
                    result = stage.handle(states.get(msg.unit_id), unit_update_of(msg))
                    if result.staffing_outcome == "duplicate":
                        # a staffing report seen before is a duplicate event; a person's update seen
                        # before is a re-send after a crash
                        counter = metrics.events_duplicate if msg.source is None else metrics.unit_updates_duplicate
                        counter.inc()
                        continue
                    if result.staffing_outcome == "too_late":
                        arrival = msg.staffing[4] if msg.staffing else None
                        event_id = msg.staffing[1] if msg.staffing else None
                        await p.reject(too_late(p.config, arrival, event_id, msg.source_offset), None, pending)
                        continue
                    if msg.staffing is not None:
                        metrics.events_consumed.labels("staffing").inc()
                    states.mark_changed(msg.unit_id)
                    for s in result.summaries:
                        summaries[(s.unit_id, s.day)] = s
            org = Outbox("summaries", 1)  # one organisation, one partition
            for s in summaries.values():
                org.add(ORG_KEY, DaySummaryMessage(unit_id=s.unit_id, day=s.day, sick_days=s.sick_days,
                                                   occasions=s.occasions, headcount=s.headcount).model_dump_json())
            await p.send_outbox(p.names.day_summaries, org, pending)
            for fut in pending:
                await fut
            p.units_to_publish.update(states.write(dumps))

    return units

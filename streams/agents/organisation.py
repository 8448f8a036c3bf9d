"""The whole organisation: weekly drift of each unit against the rest (the common trend removed).
State: the `org` table, one key."""

from __future__ import annotations

from typing import Any

from streams.agents.codec import dumps
from streams.agents.pipeline import BATCH_MESSAGES, ORG_KEY, WITHIN_S, Pending, Pipeline
from streams.core.org import OrgDrift
from streams.core.unit import DaySummary
from streams.models.internal import DaySummaryBatch


def register(p: Pipeline) -> Any:
    drift = OrgDrift(p.config)

    @p.app.agent(p.topic(p.names.day_summaries), name="organisation", concurrency=1)
    async def organisation(stream: Any) -> None:
        async for batch in stream.take_events(BATCH_MESSAGES, within=WITHIN_S):
            state = p.org_cache.take(ORG_KEY)
            pending: Pending = []
            summaries: list[DaySummary] = []
            for message in batch:
                packed = await p.read(DaySummaryBatch, message, pending)
                summaries += [DaySummary(m.unit_id, m.day, m.sick_days, m.occasions, m.headcount)
                              for m in (packed.summaries if packed else ())]
            flags = drift.apply(state, summaries)
            await p.send_flags(flags, pending)
            for fut in pending:
                await fut
            p.org_cache.put(ORG_KEY, state, dumps(state))
            p.metrics.drift_late.set(state.late_for_drift)
            p.org_to_publish[ORG_KEY] = state

    return organisation

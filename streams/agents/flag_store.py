"""The flag store: the last state of every flag id (rule, unit, status), so a flag sent twice counts
once and the open-flag figures survive a restart. State: the `flags` table, keyed by flag id."""

from __future__ import annotations

import json
from typing import Any

from streams.agents.pipeline import Pipeline

BATCH = 500
WITHIN_S = 0.05


def register(p: Pipeline) -> Any:
    @p.app.agent(p.topic(p.names.flags), name="flag_store", concurrency=1)
    async def flag_store(stream: Any) -> None:
        async for batch in stream.take_events(BATCH, within=WITHIN_S):
            for event in batch:
                flag = json.loads(event.value)
                p.flags[event.key] = json.dumps(
                    {"rule": flag["rule"], "unit": flag["unit_id"], "status": flag["status"]}).encode()

    return flag_store

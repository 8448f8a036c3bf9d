"""The flag store: the last state of every flag id (rule, unit, status), so a flag sent twice counts
once and the open-flag figures survive a restart. State: the `flags` table, keyed by flag id."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from streams.agents.runtime.context import WorkerContext
from streams.agents.runtime.records import InputRecord
from streams.agents.runtime.stage_work import Item
from streams.models.rejections import Rejection, RejectReason

BATCH = 500
WITHIN_S = 0.05


@dataclass
class FlagBatch:
    latest: dict[str, bytes] = field(default_factory=dict)


class FlagStore:
    def __init__(self, p: WorkerContext) -> None:
        self.p = p

    def begin(self) -> FlagBatch:
        return FlagBatch()

    def items(self, record: InputRecord) -> list[Item[dict[str, Any]]] | Rejection:
        try:
            flag = json.loads(record.value)
            return [Item(record, {"rule": flag["rule"], "unit": flag["unit_id"], "status": flag["status"],
                                  "flag_id": flag["flag_id"]}, raw=record.value)]
        except (ValueError, KeyError, TypeError):
            return Rejection(reason=RejectReason.UNREADABLE_INTERNAL_MESSAGE, source_offset=record.where,
                             message="not a flag (rule, unit_id, status, flag_id)")

    def apply(self, batch: FlagBatch, item: Item[dict[str, Any]]) -> None:
        flag = dict(item.value)
        batch.latest[str(flag.pop("flag_id"))] = json.dumps(flag).encode()

    def close(self, batch: FlagBatch) -> None:
        pass

    async def send(self, batch: FlagBatch) -> list[Any]:
        return []

    def write(self, batch: FlagBatch) -> None:
        for flag_id, value in batch.latest.items():
            self.p.flags[flag_id.encode()] = value

    def done(self, batch: FlagBatch) -> None:
        pass


def register(p: WorkerContext) -> Any:
    return p.stage_agent("flag_store", p.names.flags, FlagStore(p), BATCH, WITHIN_S)

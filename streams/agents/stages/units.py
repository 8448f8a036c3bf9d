"""Per unit: day-by-day sick leave, occasions, staffing and care presence; sends each changed unit-day
to the organisation stage. State: the `units` table, keyed by unit id."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from streams.agents.runtime.codec import dumps
from streams.agents.runtime.context import UNIT_PARTITIONS, WorkerContext
from streams.agents.runtime.messages import UnitUpdateBatch, encode, read_internal
from streams.agents.runtime.outputs import MetricCounts, Outputs
from streams.agents.runtime.records import InputRecord
from streams.agents.runtime.stage_work import Item
from streams.agents.runtime.state_cache import BatchStates
from streams.core.org.groups import group_of
from streams.core.stages import UnitStage, UnitUpdate
from streams.core.unit.summary import DaySummary, batch_summaries
from streams.core.unit.tracker import UnitState
from streams.models.rejections import Rejection

#: A unit's state holds every person it counts (for re-send recognition and the care population), so
#: writing it is the costliest thing the worker does; units therefore work in larger, less frequent
#: batches. This delays unit figures and drift (weekly) by at most UNITS_WITHIN_S, not person flags.
UNITS_BATCH_MESSAGES = 256
UNITS_WITHIN_S = 0.5


@dataclass
class UnitsBatch:
    states: BatchStates[UnitState]
    out: Outputs
    counts: MetricCounts
    summaries: list[DaySummary] = field(default_factory=list)  # as the updates made them
    written: dict[str, UnitState] = field(default_factory=dict)


class Units:
    def __init__(self, p: WorkerContext) -> None:
        self.p, self.stage, self.metrics = p, UnitStage(p.config), p.metrics

    def begin(self) -> UnitsBatch:
        out = Outputs()
        return UnitsBatch(BatchStates(self.p.unit_cache), out, MetricCounts(self.metrics, out))

    def items(self, record: InputRecord) -> list[Item[UnitUpdate]] | Rejection:
        packed = read_internal(UnitUpdateBatch, record)
        if isinstance(packed, Rejection):
            return packed
        return [Item(record, u, event_id=u.staffing.event_id if u.staffing else None) for u in packed.updates]

    def apply(self, batch: UnitsBatch, item: Item[UnitUpdate]) -> None:
        update, out = item.value, batch.out
        step = self.stage.step(batch.states.get(update.unit_id), update, batch.counts, update.source_offset)
        if step.rejection is not None:
            out.rejections.append((step.rejection, None))
        if not step.applied:
            return
        batch.states.mark_changed(update.unit_id)
        batch.summaries += step.summaries

    def close(self, batch: UnitsBatch) -> None:
        # each to its peer group's partition, under the group's key (the organisation table's key)
        org = batch.out.outbox(self.p.names.day_summaries, "summaries", self.p.org_partitions or 1)
        for s in batch_summaries(batch.summaries):
            org.add(group_of(s.organisation), encode(s))

    async def send(self, batch: UnitsBatch) -> list[Any]:
        return await self.p.send_outputs(batch.out)

    def write(self, batch: UnitsBatch) -> None:
        batch.written = batch.states.write(dumps)

    def done(self, batch: UnitsBatch) -> None:
        batch.out.count()
        self.p.units_to_publish.update(batch.written)


def register(p: WorkerContext) -> Any:
    return p.stage_agent("units", p.names.unit_updates, Units(p), UNITS_BATCH_MESSAGES, UNITS_WITHIN_S,
                         positions=p.org_positions, partitions=UNIT_PARTITIONS,
                         held=[p.unit_cache])

"""The organisations: weekly drift of each unit against its peers (the common trend removed).
State: the `org` table, one key per peer group (core/org/groups.py), spread over the partitions of
day-summaries; a batch writes the groups it changed, each as the parts it changed (runtime/parted_state.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from streams.agents.runtime.codec import dumps
from streams.agents.runtime.context import BATCH_MESSAGES, WITHIN_S, Outputs, WorkerContext
from streams.agents.runtime.messages import DaySummaryBatch, read_internal
from streams.agents.runtime.records import InputRecord
from streams.agents.runtime.stage_work import Item
from streams.agents.runtime.state_cache import BatchStates
from streams.core.org.drift import OrgDrift
from streams.core.org.groups import by_group
from streams.core.org.state import OrgState
from streams.core.unit.tracker import DaySummary
from streams.models.rejections import Rejection


@dataclass
class OrgBatch:
    states: BatchStates[OrgState]
    out: Outputs = field(default_factory=Outputs)
    summaries: list[DaySummary] = field(default_factory=list)
    written: dict[str, OrgState] = field(default_factory=dict)


class Organisation:
    def __init__(self, p: WorkerContext) -> None:
        self.p, self.drift = p, OrgDrift(p.config)
        # summaries that came too late for drift, per group written here: the gauge is their sum (a group
        # that a rebalance moves to another worker stays in it until this worker restarts)
        self.late: dict[str, int] = {}

    def begin(self) -> OrgBatch:
        return OrgBatch(BatchStates(self.p.org_cache))

    def items(self, record: InputRecord) -> list[Item[DaySummary]] | Rejection:
        packed = read_internal(DaySummaryBatch, record)
        if isinstance(packed, Rejection):
            return packed
        return [Item(record, s) for s in packed.summaries]

    def apply(self, batch: OrgBatch, item: Item[DaySummary]) -> None:
        batch.summaries.append(item.value)

    def close(self, batch: OrgBatch) -> None:
        for group, summaries in by_group(batch.summaries).items():
            batch.out.flags += self.drift.apply(batch.states.get(group), summaries)
            batch.states.mark_changed(group)

    async def send(self, batch: OrgBatch) -> list[Any]:
        return await self.p.send_outputs(batch.out)

    def write(self, batch: OrgBatch) -> None:
        batch.written = batch.states.write(dumps)

    def done(self, batch: OrgBatch) -> None:
        batch.out.count()
        for group, state in batch.written.items():
            self.late[group] = state.late_for_drift
            self.p.org_to_publish[group] = state
        if batch.written:
            self.p.metrics.drift_late.set(sum(self.late.values()))


def register(p: WorkerContext) -> Any:
    return p.stage_agent("organisation", p.names.day_summaries, Organisation(p), BATCH_MESSAGES, WITHIN_S,
                         positions=p.org_positions_table, partitions=p.org_partitions)
    # Not held (written after every batch, unlike persons and units): a flag this stage raises on what a
    # batch held so far, and withdraws once later days come, must be known to the state a restart resumes
    # from; taken again with other batch boundaries, the records might never raise it, and a flag sent
    # would then never be withdrawn.

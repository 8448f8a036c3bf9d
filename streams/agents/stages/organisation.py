"""The organisations: weekly drift of each unit against its peers (the common trend removed).
State: the `org` table, one key per peer group (core/org/groups.py), spread over the partitions of
day-summaries; a batch writes the groups it changed, each as the parts it changed (runtime/parted_state.py).

**State before flags.** Every other stage sends its outputs before it writes its states (`stage_agent.py`):
their outputs do not depend on where a batch ends, so records taken again after a crash send the same
outputs again. This stage's do: it evaluates a week on the days a batch brought so far and raises a flag
that later days withdraw, and the same records taken again in larger batches after a restart may never
raise it. A flag sent by a batch whose state was lost in a crash would then never be withdrawn (the
chaos backfill caught one: BENCHMARKS.md, "The ingest paced by the person stage"). So a batch's flags go
into its groups' states (`OrgState.unsent`), the states are written and acknowledged, and only then are the
flags sent; a state read back with flags still in it (after a crash, or a failed send) sends them again
before its next ones. A flag store takes a version sent twice as one (flag ids)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from streams.agents.runtime.codec import dumps
from streams.agents.runtime.context import BATCH_MESSAGES, WITHIN_S, Outputs, WorkerContext
from streams.agents.runtime.messages import DaySummaryBatch, read_internal
from streams.agents.runtime.records import InputRecord
from streams.agents.runtime.stage_work import Item, acknowledged
from streams.agents.runtime.state_cache import BatchStates
from streams.core.org.drift import OrgDrift
from streams.core.org.groups import by_group
from streams.core.org.parts import UNSENT
from streams.core.org.state import OrgState
from streams.core.unit.summary import DaySummary
from streams.models.flags import Flag
from streams.models.rejections import Rejection


@dataclass
class OrgBatch:
    states: BatchStates[OrgState]
    out: Outputs = field(default_factory=Outputs)
    summaries: list[DaySummary] = field(default_factory=list)
    written: dict[str, OrgState] = field(default_factory=dict)
    sent: dict[str, list[Flag]] = field(default_factory=dict)  # per group, the flags this batch sends


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
            state = batch.states.get(group)
            flags = self.drift.apply(state, summaries)
            if flags or state.unsent:
                # Those not known to be sent (read back after a crash, or left by a batch that failed) first,
                # in the order they were made.
                state.unsent = state.unsent + flags
                state.touch(UNSENT)
                batch.out.flags += state.unsent
                batch.sent[group] = state.unsent
            batch.states.mark_changed(group)

    async def send(self, batch: OrgBatch) -> list[Any]:
        """The states first, with the flags in them, acknowledged; then the flags, acknowledged; then they
        are known to be sent (see the module's doc)."""
        if not batch.sent:
            return await self.p.send_outputs(batch.out)
        self.write(batch)
        self.p.org_cache.persist()
        await self.p.flush()
        await acknowledged(await self.p.send_outputs(batch.out))  # a refusal fails the batch: sent again
        for group, sent in batch.sent.items():
            state = batch.written[group]
            state.unsent = state.unsent[len(sent):]
            state.touch(UNSENT)  # written with the group's next change; a restart before it sends them again
        return []

    def write(self, batch: OrgBatch) -> None:
        if batch.states.states:  # not yet written by `send`
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
    # Not held (written after every batch, unlike persons and units), and a batch's flags are sent only once
    # the state that knows them is written (the module's doc): a flag this stage raises on what a batch held
    # so far, and withdraws once later days come, must be known to the state a restart resumes from; taken
    # again with other batch boundaries, the records might never raise it, and a flag sent would then never
    # be withdrawn.

"""The input read in bulk (agents/runtime/bulk_input.py), with the broker replaced by plain objects: the
reader starts at the agent's positions and again at each rebalance or failure, and drops what it read
before one."""

from __future__ import annotations

import asyncio
from collections import namedtuple
from typing import Any

import pytest

from streams.agents.runtime import bulk_input
from streams.agents.runtime.bulk_input import BulkInput
from tests.unit.agents.runtime.test_stage_agent import TOPIC, agent, rec

Fetched = namedtuple("Fetched", "topic partition offset timestamp headers value")


class Consumer:
    """aiokafka's consumer as the reader uses it, over fixed partitions; `on_fetch` runs after each fetch
    (a rebalance coming meanwhile, say)."""

    def __init__(self, records: dict[int, list[Any]]) -> None:
        self.records, self.at, self.assigned, self.seeks = records, {}, [], []  # type: ignore[var-annotated]
        self.on_fetch: Any = None

    def assign(self, tps: list[Any]) -> None:
        self.assigned = [tp.partition for tp in tps]

    def seek(self, tp: Any, offset: int) -> None:
        self.at[tp.partition] = offset
        self.seeks.append((tp.partition, offset))

    async def seek_to_beginning(self, tp: Any) -> None:
        self.seek(tp, self.records[tp.partition][0].offset)

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[Any, list[Any]]:
        await asyncio.sleep(0)  # aiokafka's waits for records when there are none
        out = {}
        for p in self.assigned:
            got = [r for r in self.records[p] if r.offset >= self.at[p]][:max_records]
            if got:
                out[p] = [Fetched(TOPIC, r.partition, r.offset, 0, (), r.value) for r in got]
                self.at[p] = got[-1].offset + 1
        if self.on_fetch is not None:
            self.on_fetch()
        return out

    async def stop(self) -> None:
        pass


def reader(records: dict[int, list[Any]], owned: list[int], batch: int = 100) -> tuple[BulkInput, Any, Any, Consumer]:
    stage, work, _, _ = agent(records, batch=batch)
    consumer = Consumer(records)
    state = {"ready": True, "generation": 1, "owned": owned}
    stage._ready = lambda: state["ready"]

    async def open_consumer() -> Consumer:
        return consumer

    bulk = BulkInput(stage, open_consumer, lambda: state["owned"], stage._ready, lambda: state["generation"])
    return bulk, work, state, consumer


def steps(bulk: BulkInput, n: int) -> None:
    async def go() -> None:
        for _ in range(n):
            await bulk.step()
            await asyncio.sleep(0)
    asyncio.run(go())


def test_reads_the_owned_partitions_from_the_agents_positions_in_order() -> None:
    records = {0: [rec(0, i) for i in range(5)], 1: [rec(1, i) for i in range(3)], 2: [rec(2, 0)]}
    bulk, work, _, consumer = reader(records, owned=[0, 1])
    bulk.stage.positions.set(0, 2)  # 0 and 1 of partition 0 were processed before a restart
    steps(bulk, 3)
    assert work.applied == ["0:2", "0:3", "0:4", "1:0", "1:1", "1:2"]
    assert consumer.seeks == [(0, 2), (1, 0)]  # partition 2 belongs to another worker
    assert bulk.stage.positions.get(0) == 5 and bulk.stage.positions.get(1) == 3


def test_records_read_before_a_rebalance_are_dropped_and_read_again_from_the_positions_after_it() -> None:
    records = {0: [rec(0, i) for i in range(6)], 1: [rec(1, i) for i in range(6)]}
    bulk, work, state, consumer = reader(records, owned=[0, 1], batch=2)
    steps(bulk, 1)
    assert work.applied == ["0:0", "0:1", "1:0", "1:1"]

    def rebalance() -> None:  # comes while a fetch is under way: partition 1 goes to another worker
        state["generation"], state["owned"] = 2, [0]
        consumer.on_fetch = None

    consumer.on_fetch = rebalance
    steps(bulk, 1)
    assert work.applied == ["0:0", "0:1", "1:0", "1:1"]  # what was read before it is dropped
    steps(bulk, 2)
    assert work.applied == ["0:0", "0:1", "1:0", "1:1", "0:2", "0:3", "0:4", "0:5"]
    assert consumer.seeks[-1] == (0, 2)  # read again from partition 0's position


def test_nothing_is_read_while_the_worker_is_not_ready() -> None:
    records = {0: [rec(0, i) for i in range(3)]}
    bulk, work, state, consumer = reader(records, owned=[0])
    state["ready"] = False
    steps(bulk, 2)
    assert work.applied == [] and consumer.seeks == []
    state["ready"] = True
    steps(bulk, 2)
    assert work.applied == ["0:0", "0:1", "0:2"]


def test_after_a_failed_batch_the_partitions_are_read_again_from_the_positions(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.unit.agents.runtime.test_stage_agent import FailingSend

    monkeypatch.setattr(bulk_input, "RETRY_S", 0.0)
    records = {0: [rec(0, i) for i in range(6)]}
    bulk, _, _, consumer = reader(records, owned=[0], batch=2)
    stage = bulk.stage
    work = stage.work = FailingSend(stage.work.log)
    calls = {"n": 0}
    original = work.send

    async def send(batch: list[str]) -> list[Any]:
        calls["n"] += 1
        work.broken = calls["n"] == 2  # the broker refuses the second batch's outputs once
        return await original(batch)

    work.send = send  # type: ignore[method-assign]

    async def go() -> None:
        task = asyncio.ensure_future(bulk.run())
        for _ in range(1000):
            await asyncio.sleep(0)
            if stage.positions.get(0) == 6:
                break
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(go())
    assert work.applied == [f"0:{i}" for i in range(6)]  # each once, in order
    assert stage.stats.failed_attempts == 1
    assert consumer.seeks == [(0, 0), (0, 2)]  # read again from the position after the first batch

"""The agent shell, with faust and the broker replaced by plain objects: each input offset is applied once
and in order whatever is delivered, a defect in one item is isolated, positions move last."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from streams.agents.runtime.positions import Positions, position_key
from streams.agents.runtime.records import InputRecord
from streams.agents.runtime.stage_agent import StageAgent
from streams.agents.runtime.stage_work import Item
from streams.models.rejections import Rejection

TOPIC = "t.events"


def rec(partition: int, offset: int, value: bytes | None = None) -> InputRecord:
    body = value if value is not None else f"{partition}:{offset}".encode()
    return InputRecord(TOPIC, partition, offset, 0, (), body)


@dataclass
class Log:
    steps: list[str] = field(default_factory=list)


class Reader:
    """The broker: every record of every partition (offsets may have holes, like transaction markers)."""

    def __init__(self, log: Log, records: dict[int, list[InputRecord]]) -> None:
        self.log, self.records = log, records

    async def read(self, topic: str, partition: int, start: int, end: int) -> list[InputRecord]:
        self.log.steps.append(f"read {partition} {start}-{end}")
        return [r for r in self.records[partition] if start <= r.offset < end]

    async def beginning_offset(self, topic: str, partition: int) -> int:
        return self.records[partition][0].offset

    async def end_offsets(self, topic: str, partitions: list[int]) -> dict[int, int]:
        return {p: self.records[p][-1].offset + 1 for p in partitions}


class Work:
    """Applies items to a list; raises on a value containing 'boom'."""

    def __init__(self, log: Log) -> None:
        self.log, self.applied, self.written = log, [], []  # type: ignore[var-annotated]

    def begin(self) -> list[str]:
        return []

    def items(self, record: InputRecord) -> list[Item[str]] | Rejection:
        return [Item(record, part, raw=part.encode()) for part in record.value.decode().split(",")]

    def apply(self, batch: list[str], item: Item[str]) -> None:
        if "boom" in item.value:
            raise ValueError("a defect")
        batch.append(item.value)

    def close(self, batch: list[str]) -> None:
        pass

    async def send(self, batch: list[str]) -> list[Any]:
        self.log.steps.append(f"send {len(batch)}")
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        fut.set_result(None)
        return [fut]

    def write(self, batch: list[str]) -> None:
        self.log.steps.append("write states")
        self.applied += batch

    def done(self, batch: list[str]) -> None:
        pass


class Table(dict):  # type: ignore[type-arg]
    def __init__(self, log: Log) -> None:
        super().__init__()
        self.log = log

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self.log.steps.append(f"position {value.decode()}")
        super().__setitem__(key, value)


def agent(records: dict[int, list[InputRecord]], batch: int = 100) -> tuple[StageAgent[Any, Any], Work, Log, list[Any]]:
    log = Log()
    work = Work(log)
    letters: list[Any] = []

    async def flush() -> None:
        log.steps.append("flush")

    async def dead_letter(rejection: Rejection, raw: bytes | None, item: int | None = None) -> Any:
        letters.append((rejection, raw, item))
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        fut.set_result(None)
        return fut

    stage = StageAgent(name="test", topic=TOPIC, work=work, positions=Positions(Table(log), TOPIC, 2),
                       reader=Reader(log, records), flush=flush, dead_letter=dead_letter,  # type: ignore[arg-type]
                       ready=lambda: True, batch=batch)
    return stage, work, log, letters


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_a_record_delivered_again_is_not_applied_again() -> None:
    records = {0: [rec(0, i) for i in range(5)], 1: [rec(1, 0)]}
    stage, work, _, _ = agent(records)
    run(stage._process(records[0][:3]))
    run(stage._process(records[0]))  # faust delivers 0..4 after a seek back: 0..2 are done already
    assert work.applied == ["0:0", "0:1", "0:2", "0:3", "0:4"]
    assert stage.stats.redelivered_skipped == 3


def test_offsets_faust_did_not_deliver_are_read_from_the_broker_and_applied_first() -> None:
    records = {0: [rec(0, i) for i in range(10)], 1: [rec(1, 0)]}
    stage, work, log, _ = agent(records)
    run(stage._process([records[0][0], records[0][7]]))  # 1..6 were dropped on the way to the agent
    assert work.applied == [f"0:{i}" for i in range(8)]
    assert "read 0 1-7" in log.steps


def test_offsets_that_hold_no_record_are_no_hole() -> None:
    records = {0: [rec(0, 0), rec(0, 2), rec(0, 5)], 1: [rec(1, 0)]}  # 1, 3, 4: transaction markers
    stage, work, _, _ = agent(records)
    run(stage._process(records[0]))
    run(stage._process([rec(0, 5)]))
    assert work.applied == ["0:0", "0:2", "0:5"]
    assert stage.positions.get(0) == 6


def test_outputs_are_acknowledged_before_states_and_states_flushed_before_positions_move() -> None:
    records = {0: [rec(0, 0), rec(0, 1)], 1: [rec(1, 0)]}
    stage, _, log, _ = agent(records)
    run(stage._process(records[0]))
    assert log.steps == ["send 2", "write states", "flush", "position 2"]


def test_a_defect_in_one_item_sends_only_that_item_to_the_dead_letter_topic() -> None:
    values = [b"a,b", b"c,boom,d", b"e"]
    records = {0: [rec(0, i, v) for i, v in enumerate(values)], 1: [rec(1, 0)]}
    stage, work, _, letters = agent(records)
    run(stage._process(records[0]))
    assert sorted(work.applied) == ["a", "b", "c", "d", "e"]
    # the item's place in its record keys the letter: sent again after a restart, it is the same letter
    assert [(r.reason.value, raw, r.source_offset, item) for r, raw, item in letters] == [
        ("processing_failed", b"boom", "t.events/0/1", 1)]
    assert stage.positions.get(0) == 3


def test_no_partition_gets_further_than_a_batch_ahead_in_one_go() -> None:
    records = {0: [rec(0, i) for i in range(10)], 1: [rec(1, i) for i in range(10)]}
    stage, work, _, _ = agent(records, batch=3)
    run(stage._process([records[0][9], records[1][0]]))
    assert work.applied == ["0:0", "0:1", "0:2", "1:0"]
    assert stage.positions.get(0) == 3  # the rest is read again: at the next delivery, or by the catch-up


def test_an_idle_agent_catches_up_every_partition_in_turn() -> None:
    records = {0: [rec(0, i) for i in range(4)], 1: [rec(1, i) for i in range(4)]}
    stage, work, _, _ = agent(records, batch=2)
    run(stage.catch_up([0, 1]))
    assert work.applied == ["0:0", "0:1", "1:0", "1:1", "0:2", "0:3", "1:2", "1:3"]


def test_position_keys_land_in_the_partition_they_describe() -> None:
    from streams.agents.runtime.partitioning import partition_of

    for n in (1, 4, 8, 12):
        for p in range(n):
            assert partition_of(position_key("care.events", p, n).decode(), n) == p


def test_offsets_at_the_end_that_hold_no_record_are_passed_by_the_catch_up() -> None:
    records = {0: [rec(0, 0), rec(0, 1)], 1: [rec(1, 0)]}
    stage, work, _, _ = agent(records)
    reader = stage.reader
    reader.end_offsets = lambda topic, parts: _ends({0: 3, 1: 1})  # type: ignore[method-assign]
    run(stage.catch_up([0, 1]))  # offset 2 of partition 0 is a transaction marker
    assert work.applied == ["0:0", "0:1", "1:0"]
    assert stage.positions.get(0) == 3


async def _ends(ends: dict[int, int]) -> dict[int, int]:
    return ends


class FailingSend(Work):
    """Every send fails while `broken` (a broker that refuses the stage's output, say)."""

    broken = True

    async def send(self, batch: list[str]) -> list[Any]:
        if self.broken:
            raise RuntimeError("refused")
        return await super().send(batch)


def test_a_partition_whose_records_fail_every_time_is_failing_until_its_position_moves() -> None:
    from streams.agents.runtime.health import FAILING_AFTER, StallWatch, problems

    records = {0: [rec(0, i) for i in range(3)], 1: [rec(1, 0)]}
    stage, _, log, _ = agent(records)
    work = stage.work = FailingSend(log)
    watch = StallWatch(60.0)
    for attempt in range(1, FAILING_AFTER + 1):
        try:
            run(stage._process(records[0]))
        except RuntimeError:
            pass
        else:
            raise AssertionError("the send failed: the batch must fail (faust restarts the agent)")
        assert stage.stats.partitions[0].failures == attempt
        found = problems({"test": stage}, {"test": [0, 1]}, watch)
        assert [(x.stage, x.partition) for x in found] == ([("test", 0)] if attempt >= FAILING_AFTER else [])
    assert stage.positions.get(0) is None  # nothing claimed as processed
    assert "failing" in found[0].why and "RuntimeError" in found[0].why
    work.broken = False
    run(stage._process(records[0]))
    assert work.applied == ["0:0", "0:1", "0:2"]
    assert problems({"test": stage}, {"test": [0, 1]}, watch) == []


def test_records_delivered_before_the_tables_are_recovered_are_read_again_once_they_are() -> None:
    records = {0: [rec(0, i) for i in range(4)], 1: [rec(1, 0)]}
    stage, work, _, _ = agent(records)
    ready = [False]
    stage._ready = lambda: ready[0]
    events = [type("Event", (), {"message": r})() for r in records[0][:2]]
    from unittest import mock

    with mock.patch("streams.agents.runtime.stage_agent.from_faust", lambda e: e.message):
        run(stage.on_batch(events))  # the positions table may not hold partition 0's position yet
    assert work.applied == [] and stage.positions.get(0) is None
    ready[0] = True
    run(stage.catch_up([0]))
    assert work.applied == ["0:0", "0:1", "0:2", "0:3"]

"""An agent with a write interval writes each changed state once per interval, not per batch, and moves
its positions only with them; a batch that fails while states are held loses nothing and applies nothing
twice."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from streams.agents.runtime.positions import Positions
from streams.agents.runtime.records import InputRecord
from streams.agents.runtime.stage_agent import StageAgent
from streams.agents.runtime.stage_work import Item
from streams.agents.runtime.state_cache import BatchStates, StateCache
from streams.models.rejections import Rejection

TOPIC = "t.events"


def rec(offset: int, value: str) -> InputRecord:
    return InputRecord(TOPIC, 0, offset, 0, (), value.encode())


class Table(dict):  # type: ignore[type-arg]
    """A table that counts its writes (each one a changelog record)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self.writes.append(key)
        super().__setitem__(key, value)


class Reader:
    def __init__(self, records: list[InputRecord]) -> None:
        self.records = records

    async def read(self, topic: str, partition: int, start: int, end: int) -> list[InputRecord]:
        return [r for r in self.records if start <= r.offset < end]

    async def beginning_offset(self, topic: str, partition: int) -> int:
        return 0

    async def end_offsets(self, topic: str, partitions: list[int]) -> dict[int, int]:
        return {0: len(self.records)}


class Sums:
    """Each record "key:n" adds n to the key's state (a list of what was added); "boom" in a record fails
    its item, `refuse` makes every send fail."""

    def __init__(self, cache: StateCache[list[int]]) -> None:
        self.cache, self.refuse, self.sent = cache, False, 0

    def begin(self) -> BatchStates[list[int]]:
        return BatchStates(self.cache)

    def items(self, record: InputRecord) -> list[Item[str]] | Rejection:
        return [Item(record, record.value.decode(), raw=record.value)]

    def apply(self, batch: BatchStates[list[int]], item: Item[str]) -> None:
        key, n = item.value.split(":")
        state = batch.get(key)
        state.append(int(n))  # changed before the defect is found: a half-changed state
        if n == "666":
            raise ValueError("a defect")
        batch.mark_changed(key)

    def close(self, batch: BatchStates[list[int]]) -> None:
        pass

    async def send(self, batch: BatchStates[list[int]]) -> list[Any]:
        if self.refuse:
            raise RuntimeError("refused")
        self.sent += 1
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        fut.set_result(None)
        return [fut]

    def write(self, batch: BatchStates[list[int]]) -> None:
        batch.write(lambda s: json.dumps(s).encode())

    def done(self, batch: BatchStates[list[int]]) -> None:
        pass


def agent(records: list[InputRecord], interval: float) -> tuple[StageAgent[Any, Any], Sums, Table, list[Any]]:
    table = Table()
    cache: StateCache[list[int]] = StateCache(table, json.loads, lambda _: [])
    work = Sums(cache)
    letters: list[Any] = []

    async def flush() -> None:
        pass

    async def dead_letter(rejection: Rejection, raw: bytes | None, item: int | None = None) -> Any:
        letters.append(raw)
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        fut.set_result(None)
        return fut

    stage = StageAgent(name="test", topic=TOPIC, work=work, positions=Positions({}, TOPIC, 1),
                       reader=Reader(records), flush=flush, dead_letter=dead_letter,  # type: ignore[arg-type]
                       ready=lambda: True, batch=100, caches=[cache], write_interval_s=interval)
    return stage, work, table, letters


def stored(table: Table, key: str) -> list[int]:
    return json.loads(table[key.encode()])  # type: ignore[no-any-return]


async def in_batches(stage: StageAgent[Any, Any], records: list[InputRecord], size: int) -> None:
    for i in range(0, len(records), size):
        await stage._process(records[i:i + size])


def test_a_state_changed_by_many_batches_is_written_once_per_interval_and_positions_move_with_it() -> None:
    records = [rec(i, f"a:{i}") for i in range(10)]
    stage, work, table, _ = agent(records, interval=3600.0)

    async def scenario() -> None:
        await in_batches(stage, records, 2)
        assert work.sent == 5  # every batch's outputs go out at once
        assert table.writes == [] and stage.positions.get(0) is None  # nothing claimed as durable yet
        await stage.settle()  # a rebalance (or the timer, once the interval has passed)

    asyncio.run(scenario())
    assert table.writes.count(b"a") == 1
    assert stored(table, "a") == list(range(10))
    assert stage.positions.get(0) == 10


def test_without_an_interval_every_batch_writes_its_states() -> None:
    records = [rec(i, f"a:{i}") for i in range(10)]
    stage, _, table, _ = agent(records, interval=0.0)
    asyncio.run(in_batches(stage, records, 2))
    assert table.writes.count(b"a") == 5 and stage.positions.get(0) == 10


def test_a_defect_while_states_are_held_takes_the_held_records_again_and_applies_each_once() -> None:
    values = ["a:1", "b:2", "a:3", "a:666", "b:5", "a:6"]
    records = [rec(i, v) for i, v in enumerate(values)]
    for size in (1, 2, 3):
        stage, _, table, letters = agent(records, interval=3600.0)

        async def scenario() -> None:
            await in_batches(stage, records, size)  # noqa: B023
            await stage.settle()  # noqa: B023

        asyncio.run(scenario())
        assert stored(table, "a") == [1, 3, 6], size
        assert stored(table, "b") == [2, 5], size
        assert letters == [b"a:666"], size
        assert stage.positions.get(0) == 6


def test_a_refused_send_while_states_are_held_loses_nothing() -> None:
    records = [rec(i, f"a:{i}") for i in range(6)]
    stage, work, table, _ = agent(records, interval=3600.0)

    async def scenario() -> None:
        await stage._process(records[:3])
        work.refuse = True
        try:
            await stage._process(records[3:])
        except RuntimeError:
            pass
        else:
            raise AssertionError("the send failed: the batch must fail")
        work.refuse = False
        await stage._process(records[4:])  # faust goes on past the failed records: a hole, read again
        await stage.settle()

    asyncio.run(scenario())
    assert stored(table, "a") == list(range(6))
    assert stage.positions.get(0) == 6


def test_while_a_writes_acknowledgements_are_awaited_the_stage_says_so_and_its_timer_can_wait() -> None:
    """The write timer skips a tick while the broker has not acknowledged the last write (it would wait for
    it), and the states stay held until the next tick or batch."""
    records = [rec(i, f"a:{i}") for i in range(4)]
    stage, _, table, _ = agent(records, interval=0.0)
    acknowledged: asyncio.Event | None = None

    async def slow_flush() -> None:
        assert acknowledged is not None
        await acknowledged.wait()

    stage._flush = slow_flush

    async def scenario() -> None:
        nonlocal acknowledged
        acknowledged = asyncio.Event()
        assert not stage.writing()
        await stage._process(records[:2])
        await asyncio.sleep(0)
        assert stage.writing() and stage.positions.get(0) is None  # written, not acknowledged
        acknowledged.set()
        for _ in range(10):
            await asyncio.sleep(0)
        assert not stage.writing() and stage.positions.get(0) == 2

    asyncio.run(scenario())
    assert table.writes.count(b"a") == 1


class FailingOnce(Table):
    """A table whose first write fails (a transient failure, such as the producer refusing a send)."""

    def __setitem__(self, key: bytes, value: bytes) -> None:
        if not self.writes:
            self.writes.append(b"(failed)")
            raise RuntimeError("the write failed")
        super().__setitem__(key, value)


def test_a_failed_write_of_held_states_takes_their_records_again_instead_of_moving_on_without_them(
        monkeypatch: Any) -> None:
    """The held states' records are read again (from the positions written), so no change is lost: the
    timer's write and a batch's write alike."""
    clock = [0.0]
    monkeypatch.setattr("streams.agents.runtime.stage_agent.time.monotonic", lambda: clock[0])
    records = [rec(i, f"a:{i}") for i in range(9)]
    for by_timer in (False, True):
        stage, _, _, _ = agent(records, interval=10.0)
        table = FailingOnce()
        stage.caches[0].table = table

        async def scenario() -> None:
            await stage._process(records[:3])  # noqa: B023 - held
            clock[0] += 10.0
            failed = False
            try:
                if by_timer:  # noqa: B023
                    await stage.write_held_if_due()  # noqa: B023
                else:
                    await stage._process(records[3:6])  # noqa: B023 - this batch writes what is due
            except RuntimeError:
                failed = True
            assert failed, "the write fails"
            assert stage.stats.partitions[0].failures == 1  # noqa: B023 - counted (/health names a write that always fails)
            await stage._process(records[6:])  # noqa: B023 - faust goes on: the hole is read again
            await stage.settle()  # noqa: B023

        asyncio.run(scenario())
        assert stored(table, "a") == list(range(9)), by_timer
        assert stage.positions.get(0) == 9
        assert stage.stats.partitions[0].failures == 0  # the position moved past the failure


def test_a_write_of_many_states_goes_out_in_slices_each_acknowledged_before_the_next(monkeypatch: Any) -> None:
    """The producer holds a slice's records at a time, not the whole interval's (memory a person); the
    positions move only once every slice is acknowledged."""
    monkeypatch.setattr("streams.agents.runtime.stage_agent.WRITE_SLICE", 3)
    records = [rec(i, f"k{i}:{i}") for i in range(8)]
    stage, _, table, _ = agent(records, interval=3600.0)
    written_at_flush: list[int] = []

    async def flush() -> None:
        written_at_flush.append(len(table.writes))
        assert stage.positions.get(0) is None  # nothing claimed before the last slice is acknowledged

    stage._flush = flush

    async def scenario() -> None:
        await in_batches(stage, records, 4)
        await stage.settle()

    asyncio.run(scenario())
    assert written_at_flush == [3, 6, 8]  # two slices of three, then the rest, each flushed
    assert sorted(table.writes) == sorted(f"k{i}".encode() for i in range(8))
    assert stage.positions.get(0) == 8


def test_a_flush_that_fails_between_slices_takes_the_held_records_again(monkeypatch: Any) -> None:
    """The timer's write fails after its first slice: the states not written are let go (not written later
    as if their records' positions held), and the records are read again from the positions written."""
    monkeypatch.setattr("streams.agents.runtime.stage_agent.WRITE_SLICE", 2)
    monkeypatch.setattr("streams.agents.runtime.stage_agent.IDLE_WRITE_S", 0.0)  # due at once
    records = [rec(i, f"k{i % 3}:{i}") for i in range(9)]
    stage, _, table, _ = agent(records, interval=3600.0)
    failures = [1]

    async def flush() -> None:
        if failures and len(table.writes) == 2:
            failures.pop()
            raise RuntimeError("the broker refused a record")

    stage._flush = flush

    async def scenario() -> None:
        await stage._process(records[:6])
        try:
            await stage.write_held_if_due()
        except RuntimeError:
            pass
        else:
            raise AssertionError("the write fails")
        assert not stage.caches[0].holding and stage._position(0) is None
        assert stage.positions.get(0) is None
        await stage._process(records[6:])  # the hole from the position written is read again
        await stage.settle()

    asyncio.run(scenario())
    # nothing lost; the slice written before the failure takes its records again as redeliveries (this
    # toy state adds them twice; the worker's stages recognise them, as after a crash between a state's
    # changelog record and the positions)
    for k in range(3):
        assert set(stored(table, f"k{k}")) == set(range(k, 9, 3))
    assert stage.positions.get(0) == 9


def test_held_states_are_written_once_the_stage_has_had_no_batch_for_a_while(monkeypatch: Any) -> None:
    """A drained backlog or a pause in the stream does not leave its states unwritten for the rest of a
    long interval; a busy stage keeps them for the interval."""
    clock = [0.0]
    monkeypatch.setattr("streams.agents.runtime.stage_agent.time.monotonic", lambda: clock[0])
    monkeypatch.setattr("streams.agents.runtime.stage_agent.IDLE_WRITE_S", 1.0)
    records = [rec(i, f"a:{i}") for i in range(6)]
    stage, _, table, _ = agent(records, interval=10.0)

    async def scenario() -> None:
        for i in range(0, 4, 2):
            await stage._process(records[i:i + 2])
            clock[0] += 0.5
            await stage.write_held_if_due()  # the timer while batches keep coming: not due
        assert table.writes == [] and stage.positions.get(0) is None
        clock[0] += 0.5  # a second since the last batch
        await stage.write_held_if_due()
        assert table.writes == [b"a"]
        for _ in range(5):
            await asyncio.sleep(0)  # the write's flush
        assert stage.positions.get(0) == 4

    asyncio.run(scenario())


def test_a_slice_of_a_write_is_bounded_in_bytes_too(monkeypatch: Any) -> None:
    """Large states (a unit's, tens of KB) go out a few at a time: a slice ends once its encodings reach
    the byte bound, the state that crosses it included."""
    monkeypatch.setattr("streams.agents.runtime.stage_agent.WRITE_SLICE_BYTES", 25)
    records = [rec(i, f"k{i}:{10**9 + i}") for i in range(5)]  # each state's encoding: 12 bytes
    stage, _, table, _ = agent(records, interval=3600.0)
    written_at_flush: list[int] = []

    async def flush() -> None:
        written_at_flush.append(len(table.writes))

    stage._flush = flush

    async def scenario() -> None:
        await stage._process(records)
        await stage.settle()

    asyncio.run(scenario())
    assert written_at_flush == [3, 5]  # 36 bytes reach the bound of 25 with the third state
    assert stage.positions.get(0) == 5


def test_states_kept_as_bytes_are_written_in_slices_as_the_decoded_ones_are() -> None:
    """Past `max_entries` the oldest held states wait as their encodings; a bounded write takes them first
    (held longest) and each state exactly once."""
    table = Table()
    cache: StateCache[list[int]] = StateCache(table, json.loads, lambda _: [], max_entries=3)
    cache.deferred = True
    for i in range(10):
        cache.stage(f"k{i}", [i], lambda s: json.dumps(s).encode())
    assert cache.held_count == (3, 7)
    slices = []
    while cache.holding:
        cache.persist(limit=4)
        slices.append(list(table.writes))
        table.writes.clear()
    assert slices == [[b"k0", b"k1", b"k2", b"k3"], [b"k4", b"k5", b"k6", b"k7"], [b"k8", b"k9"]]
    assert all(stored(table, f"k{i}") == [i] for i in range(10))
    for i in range(10):  # the byte bound holds for them too: "[i]" is 3 bytes
        cache.stage(f"k{i}", [i], lambda s: json.dumps(s).encode())
    table.writes.clear()
    assert cache.persist(max_bytes=7) == 3 and table.writes == [b"k0", b"k1", b"k2"]

"""The worker's producer flush (streams/agents/faust_fixes.py, 4.): a stage that awaited it may move its
positions, because every state write made before it is acknowledged by the broker. faust's own flush gives up
after 0.1 s without a record leaving its buffer, and aiokafka's does not fail on a record refused for good."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

import pytest
from faust.transport.producer import ProducerBuffer

from streams.agents.faust_fixes import (
    PRODUCER_BUFFER_MESSAGES,
    AcknowledgingProducerBuffer,
    MonitorApp,
    RecordsNotStored,
)

GUARD_S = 10  # a flush that never returns would hang the test; this turns it into a failure
STALL_S = 0.3  # longer than the 0.1 s after which faust's own flush gives up (its timer always fires first)


class Record(asyncio.Future[Any]):
    """A table's changelog record as faust puts it into the buffer (a `FutureMessage`): settled with the
    broker's answer."""

    def __init__(self, number: int, channel: GatedChannel) -> None:
        super().__init__()
        self.number = number
        self.message = SimpleNamespace(channel=channel)


class GatedChannel:
    """A topic whose every record waits at a gate before aiokafka would have it, and at another for the
    broker's answer (acknowledged, unless told to refuse it); records in hand-over order."""

    def __init__(self) -> None:
        self.gates: dict[int, asyncio.Event] = {}
        self.acks: dict[int, asyncio.Event] = {}
        self.refuse: set[int] = set()
        self.handed: list[int] = []

    def record(self, number: int, acked: bool = True) -> Record:
        self.gates[number] = asyncio.Event()
        self.acks[number] = asyncio.Event()
        if acked:
            self.acks[number].set()
        return Record(number, self)

    async def publish_message(self, fut: Record, wait: bool = False) -> None:
        await self.gates[fut.number].wait()
        self.handed.append(fut.number)
        asyncio.ensure_future(self._answer(fut))  # as aiokafka's future does, later

    async def _answer(self, fut: Record) -> None:
        await self.acks[fut.number].wait()
        if fut.number in self.refuse:
            fut.set_exception(OSError("record refused"))
        else:
            fut.set_result(None)


def _buffer_test(body: Callable[[ProducerBuffer, GatedChannel], Awaitable[None]]) -> None:
    """Run `body(buffer, channel)` with the worker's own producer buffer, started."""
    async def run() -> None:
        app = MonitorApp("flush-test", broker="kafka://127.0.0.1:1", web_enabled=False)
        buffer = app.producer.buffer
        await buffer.start()
        try:
            await body(buffer, GatedChannel())
        finally:
            await buffer.stop()

    asyncio.run(run())


def test_the_worker_producer_has_the_waiting_buffer_with_room_for_a_batch() -> None:
    async def build() -> Any:
        return MonitorApp("flush-test", broker="kafka://127.0.0.1:1", web_enabled=False).producer.buffer

    buffer = asyncio.run(build())
    assert isinstance(buffer, AcknowledgingProducerBuffer) and buffer.max_messages == PRODUCER_BUFFER_MESSAGES


def test_a_flush_waits_for_every_earlier_record_however_long_the_first_takes() -> None:
    async def body(buffer: ProducerBuffer, channel: GatedChannel) -> None:
        loop = asyncio.get_running_loop()
        records = [channel.record(number) for number in (1, 2, 3)]
        for record in records:
            buffer.put(record)
        for gate in channel.gates.values():
            loop.call_later(STALL_S, gate.set)  # a broker coming back, a saturated CPU
        await asyncio.wait_for(ProducerBuffer.flush(buffer), GUARD_S)
        assert channel.handed == [] and buffer.size > 0  # faust's own flush: returned, nothing sent

        await asyncio.wait_for(buffer.flush(), GUARD_S)
        assert channel.handed == [1, 2, 3] and all(record.done() for record in records)

    _buffer_test(body)


def test_a_flush_waits_for_the_brokers_answer_not_only_the_hand_over() -> None:
    async def body(buffer: ProducerBuffer, channel: GatedChannel) -> None:
        first, second = channel.record(1), channel.record(2, acked=False)
        buffer.put(first)
        buffer.put(second)
        channel.gates[1].set()
        channel.gates[2].set()
        flushing = asyncio.ensure_future(buffer.app.flush_stored())
        while channel.handed != [1, 2]:
            await asyncio.sleep(0)
        for _ in range(5):
            await asyncio.sleep(0)
        assert not flushing.done()  # both handed over, the second not acknowledged yet
        channel.acks[2].set()
        await asyncio.wait_for(flushing, GUARD_S)
        assert second.done()

    _buffer_test(body)


def test_a_flush_does_not_wait_for_records_put_after_it_began() -> None:
    async def body(buffer: ProducerBuffer, channel: GatedChannel) -> None:
        buffer.put(channel.record(1))
        buffer.put(channel.record(2))
        flushing = asyncio.ensure_future(buffer.flush())
        await asyncio.sleep(0)  # the flush has begun
        buffer.put(channel.record(3))  # a busy worker: the buffer never empties
        another = asyncio.ensure_future(buffer.flush())  # another stage's flush, meanwhile
        await asyncio.sleep(0)
        channel.gates[1].set()
        channel.gates[2].set()
        await asyncio.wait_for(flushing, GUARD_S)
        assert channel.handed == [1, 2] and not another.done()
        channel.gates[3].set()
        await asyncio.wait_for(another, GUARD_S)
        assert channel.handed == [1, 2, 3]

    _buffer_test(body)


def test_a_record_refused_for_good_fails_the_stages_flush_and_every_one_after_but_not_fausts_own() -> None:
    async def body(buffer: ProducerBuffer, channel: GatedChannel) -> None:
        app = buffer.app  # the worker's MonitorApp; its stages flush with `flush_stored`
        channel.refuse.add(2)
        for number in (1, 2, 3):
            buffer.put(channel.record(number))
            channel.gates[number].set()
        with pytest.raises(RecordsNotStored, match="refused a record"):
            await asyncio.wait_for(app.flush_stored(), GUARD_S)
        buffer.put(channel.record(4))
        channel.gates[4].set()
        with pytest.raises(RecordsNotStored, match="restart the worker"):
            await asyncio.wait_for(app.flush_stored(), GUARD_S)  # the tables hold what the changelog does not
        # faust's own flushes (its commit timer, a rebalance, its stop) go on: an error there would crash the
        # app, or stop its shutdown half-way
        await asyncio.wait_for(app.producer.flush(), GUARD_S)
        assert buffer.state == "running"

    _buffer_test(body)


def test_a_flush_raises_if_the_buffer_stops_before_its_records_are_sent() -> None:
    async def body(buffer: ProducerBuffer, channel: GatedChannel) -> None:
        buffer.put(channel.record(1))  # its gate never opens: the broker is gone
        flushing = asyncio.ensure_future(buffer.flush())
        await asyncio.sleep(0)
        await asyncio.wait_for(buffer.stop(), GUARD_S)
        with pytest.raises(RecordsNotStored, match="1 records not acknowledged"):
            await asyncio.wait_for(flushing, GUARD_S)
        assert channel.handed == []
        with pytest.raises(RecordsNotStored, match="not acknowledged"):
            await buffer.flush()  # and a flush after the stop does not pretend either

    _buffer_test(body)

"""Three of the changes to faust-streaming (streams/agents/faust_fixes.py) still take effect (after an upgrade,
say): a short fetch wait, room for a batch's table writes, and no tasks for a record delivered at once (with
a delivery that has to wait still abandoned on a rebalance, as faust does). The fourth, a flush that waits,
has test_faust_producer_flush.py."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from streams.agents.faust_fixes import FETCH_MAX_WAIT_MS, PRODUCER_BUFFER_MESSAGES, MonitorApp, _Resumed


def test_the_worker_consumer_waits_100_ms_for_a_fetch_and_the_producer_buffer_holds_a_batch() -> None:
    async def build() -> tuple[Any, Any]:
        app = MonitorApp("fix-test", broker="kafka://127.0.0.1:1", web_enabled=False)
        thread = app.consumer._new_consumer_thread()
        consumer = thread._create_worker_consumer(app.transport)
        return consumer, app.producer

    consumer, producer = asyncio.run(build())
    assert consumer._fetch_max_wait_ms == FETCH_MAX_WAIT_MS == 100  # faust's own: 1500
    assert producer.buffer.max_messages == PRODUCER_BUFFER_MESSAGES


def _consumer_test(body: Callable[[Any, list[asyncio.Task[Any]]], Awaitable[None]]) -> None:
    """Run `body(consumer, tasks)` with the worker's faust consumer; `tasks` collects every task created."""
    async def run() -> None:
        app = MonitorApp("fix-test", broker="kafka://127.0.0.1:1", web_enabled=False)
        loop = asyncio.get_running_loop()
        tasks: list[asyncio.Task[Any]] = []

        def counting(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
            task = asyncio.Task(coro, loop=loop, **kwargs)
            tasks.append(task)
            return task

        loop.set_task_factory(counting)
        await body(app.consumer, tasks)

    asyncio.run(run())


def test_a_record_delivered_without_waiting_costs_the_worker_no_task() -> None:
    delivered: list[str] = []

    async def deliver() -> str:
        delivered.append("record")
        return "done"

    async def body(consumer: Any, tasks: list[asyncio.Task[Any]]) -> None:
        # faust's _drain_messages, for every record it fetched:
        result = await consumer.wait_first(deliver(), consumer.suspend_flow.wait())
        assert delivered == ["record"] and result.results == ["done"] and not result.stopped
        assert tasks == []  # faust's own wait_first makes four (delivery, suspend, stopped, crashed)

    _consumer_test(body)


GUARD_S = 10  # a broken continuation would hang; this turns it into a failure (not a timing assertion)


def test_a_delivery_that_has_to_wait_goes_on_with_its_value_or_its_error() -> None:
    async def body(consumer: Any, tasks: list[asyncio.Task[Any]]) -> None:
        loop = asyncio.get_running_loop()
        room: asyncio.Future[str] = loop.create_future()

        async def also_waiting_for_room() -> str:  # another task awaits the same future meanwhile
            return await room

        other = asyncio.ensure_future(also_waiting_for_room())

        async def deliver_when_there_is_room() -> str:  # a full stream buffer, say
            return "delivered " + await room

        loop.call_later(0.01, room.set_result, "put")
        async with asyncio.timeout(GUARD_S):  # in this task: `other` awaits `room` before the delivery goes on
            result = await consumer.wait_first(deliver_when_there_is_room(), consumer.suspend_flow.wait())
        assert result.results == ["delivered put"] and await other == "put"

        async def deliver_after_a_bare_yield() -> str:
            await asyncio.sleep(0)
            return "delivered"

        result = await asyncio.wait_for(
            consumer.wait_first(deliver_after_a_bare_yield(), consumer.suspend_flow.wait()), GUARD_S)
        assert result.results == ["delivered"]

        broken: asyncio.Future[str] = loop.create_future()

        async def deliver_then_fail() -> None:
            await broken
            raise KeyError("no channel")

        loop.call_soon(broken.set_result, "")
        with pytest.raises(KeyError, match="no channel"):
            await asyncio.wait_for(consumer.wait_first(deliver_then_fail(), consumer.suspend_flow.wait()), GUARD_S)

    _consumer_test(body)


def _stuck(log: list[str]) -> Callable[[], Awaitable[None]]:
    async def deliver_stuck() -> None:
        try:
            await asyncio.get_running_loop().create_future()  # never done
        except asyncio.CancelledError:
            log.append("cancelled")
            raise
    return deliver_stuck


def test_a_rebalance_or_a_stop_still_abandons_a_delivery_that_waits() -> None:
    async def body(consumer: Any, tasks: list[asyncio.Task[Any]]) -> None:
        abandoned: list[str] = []
        asyncio.get_running_loop().call_soon(consumer.suspend_flow.set)  # what faust's stop_flow does
        result = await asyncio.wait_for(
            consumer.wait_first(_stuck(abandoned)(), consumer.suspend_flow.wait()), GUARD_S)
        for _ in range(3):
            await asyncio.sleep(0)
        assert abandoned == ["cancelled"] and not result.stopped

        consumer.suspend_flow.clear()
        stopped: list[str] = []
        waiting = asyncio.ensure_future(consumer.wait_first(_stuck(stopped)(), consumer.suspend_flow.wait()))
        await asyncio.sleep(0)
        going_on = [t for t in tasks if isinstance(t.get_coro(), _Resumed)]
        going_on[0].cancel()  # the worker stopping (asyncio.run cancels every task) before it went on
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        for _ in range(3):
            await asyncio.sleep(0)
        assert stopped == ["cancelled"]

    _consumer_test(body)


def test_while_the_flow_is_suspended_every_delivery_goes_through_faust_as_it_is() -> None:
    async def deliver() -> str:
        return "done"

    async def body(consumer: Any, tasks: list[asyncio.Task[Any]]) -> None:
        consumer.suspend_flow.set()
        await asyncio.wait_for(consumer.wait_first(deliver(), consumer.suspend_flow.wait()), GUARD_S)
        assert len(tasks) == 1 + 4  # the guard's, and faust's own four

    _consumer_test(body)


def test_a_delivery_that_fails_raises_its_error_as_before() -> None:
    async def fail() -> None:
        raise ValueError("undecodable")

    async def body(consumer: Any, tasks: list[asyncio.Task[Any]]) -> None:
        with pytest.raises(ValueError, match="undecodable"):
            await consumer.wait_first(fail(), consumer.suspend_flow.wait())

    _consumer_test(body)

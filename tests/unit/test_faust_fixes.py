"""The three changes to faust-streaming (streams/agents/faust_fixes.py) still take effect (after an upgrade,
say): a short fetch wait, room for a batch's table writes, and no tasks for a record delivered at once (with
a delivery that has to wait still abandoned on a rebalance, as faust does)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from streams.agents.faust_fixes import FETCH_MAX_WAIT_MS, PRODUCER_BUFFER_MESSAGES, MonitorApp


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


def test_a_delivery_that_has_to_wait_still_completes_and_a_rebalance_still_abandons_it() -> None:
    async def body(consumer: Any, tasks: list[asyncio.Task[Any]]) -> None:
        loop = asyncio.get_running_loop()
        room: asyncio.Future[str] = loop.create_future()
        seen: list[str] = []

        async def deliver_when_there_is_room() -> None:  # a full stream buffer, say
            seen.append(await room)

        loop.call_later(0.01, room.set_result, "put")
        await consumer.wait_first(deliver_when_there_is_room(), consumer.suspend_flow.wait())
        assert seen == ["put"]

        never: asyncio.Future[str] = loop.create_future()
        abandoned: list[str] = []

        async def deliver_stuck() -> None:
            try:
                await never
            except asyncio.CancelledError:
                abandoned.append("cancelled")
                raise

        loop.call_later(0.01, consumer.suspend_flow.set)  # what faust's stop_flow does on a rebalance
        result = await consumer.wait_first(deliver_stuck(), consumer.suspend_flow.wait())
        await asyncio.sleep(0)
        assert abandoned == ["cancelled"] and not result.stopped

    _consumer_test(body)


def test_a_delivery_that_fails_raises_its_error_as_before() -> None:
    async def fail() -> None:
        raise ValueError("undecodable")

    async def body(consumer: Any, tasks: list[asyncio.Task[Any]]) -> None:
        with pytest.raises(ValueError, match="undecodable"):
            await consumer.wait_first(fail(), consumer.suspend_flow.wait())

    _consumer_test(body)

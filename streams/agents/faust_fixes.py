"""The only places where the worker changes faust-streaming (0.15.x, pinned) instead of using it as is.

Correctness does not rest on anything here: which records are processed is decided by the agents'
own positions (`stage_agent.py`), not by faust's offset bookkeeping. What is here is speed:

1. Fetch wait. faust builds its aiokafka consumer with a fixed `fetch_max_wait_ms=1500`
   (`AIOKafkaConsumerThread._create_worker_consumer`; no setting exposes it, and no upstream issue
   about it was found to cite): a partition left out of the fetch under way waits that
   long at each of the pipeline's four hops (event-to-flag ~3 s at 1,000 events/s). 100 ms instead.
2. Producer buffer. A batch's table writes wait in faust's producer buffer; past
   `max_messages` (faust: 1,000) faust holds every incoming message until it drains, and logs a
   warning each time. A batch writes one entry per changed key, so the limit is raised.
3. Four tasks per record. faust hands each fetched record to its conductor with
   `await self.wait_first(callback(message), self.suspend_flow.wait())` (`Consumer._drain_messages`),
   so that a rebalance can abandon a delivery that blocks. `mode`'s `wait_first` wraps the delivery,
   the suspend event, the stopped and the crashed event in four tasks, waits on them and cancels
   three, for every record, though a delivery nearly always completes without waiting at all: about
   a third of the main thread of a faust agent that does nothing else (py-spy). This is the per-record
   cost behind "faust reads ~10x slower than a bare aiokafka consumer" (robinhood/faust#563, open;
   the call itself is the one faust-streaming#229 is about). Here the delivery is first run directly;
   only if it has to wait (flow control, a full stream buffer, the producer buffer) is the rest of it
   handed to faust's `wait_first`, exactly as before, so a rebalance still abandons it.

`tests/unit/test_faust_fixes.py` fails if any of them stops taking effect (after an upgrade, say).
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import Coroutine, Generator
from typing import Any

import faust
from faust.transport.drivers import aiokafka as aiokafka_driver
from mode.services import WaitResults

FETCH_MAX_WAIT_MS = 100
PRODUCER_BUFFER_MESSAGES = 50_000


class PromptConsumerThread(aiokafka_driver.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer


@types.coroutine
def _go_on(coro: Coroutine[Any, Any, Any], waiting_on: Any) -> Generator[Any, Any, Any]:
    """Drive `coro` on from where it stopped, having yielded `waiting_on` to the task that ran it."""
    while True:
        try:
            sent = yield waiting_on
        except GeneratorExit:
            coro.close()
            raise
        except BaseException as exc:  # cancelled, or the awaited future failed: hand it on
            try:
                waiting_on = coro.throw(exc)
            except StopIteration as stop:
                return stop.value
            continue
        try:
            waiting_on = coro.send(sent)
        except StopIteration as stop:
            return stop.value


async def _the_rest_of(coro: Coroutine[Any, Any, Any], waiting_on: Any) -> Any:
    """`coro`, already started and now waiting on `waiting_on`, as an awaitable `mode` accepts."""
    return await _go_on(coro, waiting_on)


class PromptConsumer(aiokafka_driver.Consumer):
    def _new_consumer_thread(self) -> Any:
        return PromptConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def wait_first(self, *coros: Any, timeout: Any = None) -> WaitResults:
        """3. above. faust calls this for each record it delivers; any call whose first awaitable finishes
        without waiting gets the answer faust's own would give (that awaitable, done), only sooner."""
        delivery = coros[0] if coros else None
        if (not asyncio.iscoroutine(delivery) or timeout is not None or self.suspend_flow.is_set()
                or self._stopped.is_set() or self._crashed.is_set()):
            return await super().wait_first(*coros, timeout=timeout)
        try:
            waiting_on = delivery.send(None)
        except BaseException as finished:  # delivered, or failed as it would have in its task
            for unused in coros[1:]:  # the suspend event's wait(), never started: no "never awaited"
                if asyncio.iscoroutine(unused):
                    unused.close()
            if isinstance(finished, StopIteration):
                return WaitResults([delivery], [finished.value], False)
            raise
        return await super().wait_first(_the_rest_of(delivery, waiting_on), *coros[1:])


class PromptTransport(aiokafka_driver.Transport):
    Consumer = PromptConsumer


class MonitorApp(faust.App):
    """faust's App with the three changes above."""

    def _new_transport(self) -> Any:
        return PromptTransport(self.conf.broker_consumer, self)

    def _new_producer(self) -> Any:
        producer = super()._new_producer()
        producer.buffer.max_messages = PRODUCER_BUFFER_MESSAGES
        return producer

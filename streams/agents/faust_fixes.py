"""The only places where the worker changes faust-streaming (0.15.x, pinned) instead of using it as is.

Which records are processed is decided by the agents' own positions (`stage_agent.py`), not by faust's
offset bookkeeping. 1.-3. are speed (and, with 3., memory); 4. is correctness: a flush that waits.

1. Fetch wait. faust builds its aiokafka consumer with a fixed `fetch_max_wait_ms=1500`
   (`AIOKafkaConsumerThread._create_worker_consumer`; no setting exposes it, and no upstream issue
   about it was found to cite): a partition left out of the fetch under way waits that
   long at each of the pipeline's four hops (event-to-flag ~3 s at 1,000 events/s). 100 ms instead.
2. Producer buffer. A batch's table writes wait in faust's producer buffer; past
   `max_messages` (faust: 1,000) faust holds every incoming message until it drains, and logs a
   warning each time. A batch writes one entry per changed key, so the limit is raised.
3. Four tasks per record. faust hands each fetched record to its conductor with
   `await self.wait_first(callback(message), self.suspend_flow.wait())` (`Consumer._drain_messages`),
   so that a rebalance can abandon a delivery that blocks (the call faust-streaming#229 found hanging).
   `mode`'s `wait_first` wraps the delivery, the suspend event, the stopped and the crashed event in
   four tasks, waits on them and cancels three, for every record, though a delivery nearly always
   completes without waiting: ~28% of the event loop of a faust agent that does nothing else (py-spy),
   one of the per-record costs behind faust reading ~10x slower than a bare aiokafka consumer
   (robinhood/faust#563, open, undiagnosed there). Here the delivery's first step runs directly, in the
   drainer's task; only a delivery that has to wait (flow control, a full stream buffer, the producer
   buffer) goes on in faust's `wait_first`, in a task of its own, so a rebalance still abandons it.
   This holds while a delivery's first step neither sets a contextvar nor relies on which task runs
   it (`asyncio.current_task()`, `asyncio.timeout()`): faust's conductor does neither.

4. A flush that waits. A stage moves its positions (and the organisation stage sends its flags) only after
   `app.producer.flush()`, which must mean "every state write made so far is acknowledged". Table changelog
   records first wait in faust's `ProducerBuffer` (`send_soon`) and only then reach aiokafka, whose own
   flush waits for what it holds. But faust's `ProducerBuffer.flush` (`flush_atmost(None)`,
   `faust/transport/producer.py`) returns as soon as no record has left the buffer for 0.1 s, with records
   still in it: behind a burst of writes, a saturated CPU or a broker that is coming back. The flush that
   faust-streaming#273 added before each offset commit rests on the same call; no upstream issue about the
   early return was found to cite. A kill after such a flush lost a state write whose inputs were already
   passed (the chaos backfill's extra drift flag, BENCHMARKS.md). aiokafka's flush, next, waits for its
   batches but does not fail when one is refused for good (a non-retriable error, `producer_request_timeout`
   expiring): faust only logs a warning and sets the exception on the record's future. Here the flush waits
   until every record put into the buffer before it was called has the broker's answer (its future settled;
   records put meanwhile are the next flush's: a busy worker never empties the buffer), and raises
   `RecordsNotStored` if the buffer stops or crashes first. A refusal is kept: the worker's stages call
   `MonitorApp.flush_stored`, which raises after it (and at every flush after: only a restart puts the
   tables right). faust's own flushes (its commit timer, a rebalance, its stop) do not check, so a refusal
   stalls the stages (`/health` names them) instead of crashing the app or its shutdown. So a stage never
   moves on without its writes. When the buffer itself stops, faust's own `on_stop` flush is kept.

5. Fetched, then dropped. faust's `Consumer.getmany` hands aiokafka its live set of active partitions,
   which a rebalance empties and refills from the main thread while aiokafka waits on it in the consumer
   thread; aiokafka reads an empty set as "every partition" and returns records (its positions now past
   them) that `getmany` then drops: for a partition not active when it looks, after a change of generation,
   or with the flow stopped. A table's changelog records dropped so are never read again, and its recovery
   waits for them for ever ("No event received for active tp ... since recovery start": a worker whose
   partitions came back right after a second worker joined and left, the symptom of robinhood/faust#542,
   whose fix, a read offset reset on a seek to 0, faust-streaming has; no upstream issue names this path).
   Here aiokafka is given a copy of the set taken when the fetch starts (none when it is empty), and a
   record fetched but not handed on is fetched again: its partition is sought back to it, unless it was
   sought elsewhere since (a recovery's seek) or is no longer assigned.

`tests/unit/agents/test_faust_fixes.py` fails if any of them stops taking effect (after an upgrade, say).
"""

from __future__ import annotations

import asyncio
import collections
import collections.abc
import logging
from collections.abc import Coroutine
from typing import Any, cast

import faust
from faust.transport.drivers import aiokafka as aiokafka_driver
from faust.transport.producer import ProducerBuffer
from mode.services import WaitResults

logger = logging.getLogger(__name__)

FETCH_MAX_WAIT_MS = 100
PRODUCER_BUFFER_MESSAGES = 50_000


class PromptConsumerThread(aiokafka_driver.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer

    async def getmany(self, active_partitions: set[Any] | None, timeout: float) -> Any:
        """5. above: aiokafka gets the active partitions as they are now, never a set emptied meanwhile."""
        if active_partitions is not None:
            active_partitions = set(active_partitions)
            if not active_partitions:
                return {}
        return await super().getmany(active_partitions, timeout)

    async def fetch_again(self, undelivered: dict[Any, tuple[int, int]]) -> None:
        """5. above: per partition, the first offset fetched but not handed on and the offset after the last
        record fetched; sought back to the first where the position has not been sought back since (it is
        at least that one: past a compacted topic's gap it can be more)."""
        await self.call_thread(self._fetch_again, undelivered)

    async def _fetch_again(self, undelivered: dict[Any, tuple[int, int]]) -> None:
        consumer = self._ensure_consumer()
        assigned = consumer.assignment()
        again = []
        for tp, (first, end) in undelivered.items():
            if tp in assigned and await consumer.position(tp) >= end:
                consumer.seek(tp, first)
                again.append(f"{tp.topic}/{tp.partition} from {first}")
        if again:  # offsets only: how often a rebalance left records fetched and not handed on
            logger.info("consumer: records fetched and not handed on are fetched again: %s", ", ".join(sorted(again)))


class _Resumed(collections.abc.Coroutine):  # type: ignore[type-arg]
    """A coroutine already started and now waiting on `waiting_on`, for a task to drive on from there.

    Everything a task sends or throws goes to the coroutine itself (a cancel before the task's first step
    too); the task's first step gets what the coroutine yielded, as the coroutine yielded it. In between,
    a future's `_asyncio_future_blocking` mark is taken off, so that other tasks may await it meanwhile."""

    _STARTED = object()

    def __init__(self, coro: Coroutine[Any, Any, Any], waiting_on: Any) -> None:
        self._coro = coro
        self._waiting_on = waiting_on
        self._marked = getattr(waiting_on, "_asyncio_future_blocking", False) is True
        if self._marked:
            waiting_on._asyncio_future_blocking = False

    def send(self, value: Any) -> Any:
        if self._waiting_on is self._STARTED:
            return self._coro.send(value)
        waiting_on, self._waiting_on = self._waiting_on, self._STARTED
        if self._marked:
            waiting_on._asyncio_future_blocking = True
        return waiting_on

    def throw(self, *exc: Any) -> Any:
        self._waiting_on = self._STARTED
        return self._coro.throw(*exc)

    def close(self) -> None:
        self._coro.close()

    def __await__(self) -> Any:
        return self

    def __iter__(self) -> Any:
        return self

    def __next__(self) -> Any:
        return self.send(None)


class PromptConsumer(aiokafka_driver.Consumer):
    def _new_consumer_thread(self) -> Any:
        return PromptConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def getmany(self, timeout: float) -> Any:
        """faust's `Consumer.getmany` (0.15.3, its round robin, generation and flow checks as they are), and
        5. above: what it fetched and did not hand on is fetched again."""
        records, active_partitions = await self._wait_next_records(timeout)
        generation_id = self.app.consumer_generation_id
        if records is None or self.should_stop:
            return
        handed: dict[Any, int] = {}  # per partition, the offset of the last record handed on
        held_back: set[Any] = set()  # partitions with a record not handed on: theirs after it wait for it
        try:
            if self.flow_active:
                for tp, record in self.scheduler.iterate(records):
                    if not self.flow_active or self.app.consumer_generation_id != generation_id:
                        break
                    if tp in held_back:
                        continue  # one before it was not handed on: both are fetched again, in order
                    if active_partitions is None or tp in active_partitions or tp in self._buffered_partitions:
                        self.app.monitor.track_tp_end_offset(tp, self.highwater(tp))
                        yield tp, self._to_message(tp, record)
                        handed[tp] = record.offset
                    else:
                        held_back.add(tp)
            else:
                try:
                    await self.perform_seek()
                except Exception as ex:  # noqa: BLE001 - as faust: the seek is best effort here
                    self.log.warning(f"exception performing seek when flow not active {ex}")
        finally:
            # per partition: the first record not handed on, and the offset after the last one fetched (offsets
            # of a compacted topic have gaps: the records', not one more than the last handed on)
            undelivered = {}
            for tp, batch in records.items():
                last = handed.get(tp)
                if last == batch[-1].offset:  # the usual case: all handed on, nothing to look through
                    continue
                rest = batch if last is None else [r for r in batch if r.offset > last]
                if rest:
                    undelivered[tp] = (rest[0].offset, batch[-1].offset + 1)
            if undelivered and not self.should_stop:
                try:
                    await cast(PromptConsumerThread, self._thread).fetch_again(undelivered)
                except Exception as exc:  # noqa: BLE001 - a consumer stopping under it: logged, not raised
                    self.log.warning("records fetched but not handed on were not sought back: %r", exc)

    async def wait_first(self, *coros: Any, timeout: Any = None) -> WaitResults:
        """3. above. faust calls this for each record it delivers (and ignores the answer); a call whose
        first awaitable finishes without waiting gets that awaitable as done, `stopped` False."""
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
        return await super().wait_first(_Resumed(delivery, waiting_on), *coros[1:])


class RecordsNotStored(RuntimeError):
    """A record put into the producer buffer was refused by the broker for good, or the buffer stopped
    before it was sent: what a flush covers is not stored, so no position may move past it."""


class AcknowledgingProducerBuffer(ProducerBuffer):
    """4. above: faust's producer buffer, with a flush that returns once every record put before it was
    called has the broker's answer, and `check_stored`, which raises once any record was refused (from then
    on: the tables in memory hold what their changelog does not, so only a restart, which restores them
    from the changelog and takes the records after the positions again, puts that right)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.records_put = 0
        self.records_settled = 0  # the records put, in order, up to the first not yet acknowledged or failed
        self.refused: BaseException | None = None
        self._unsettled: collections.deque[asyncio.Future[Any]] = collections.deque()
        self._flushes: collections.deque[tuple[int, asyncio.Future[None]]] = collections.deque()

    def put(self, fut: Any) -> None:
        super().put(fut)
        self.records_put += 1
        self._unsettled.append(fut)
        fut.add_done_callback(self._settled)  # faust's `Topic._on_published`: the broker's answer

    def _settled(self, fut: asyncio.Future[Any]) -> None:
        if self.refused is None and (fut.cancelled() or fut.exception() is not None):
            self.refused = asyncio.CancelledError() if fut.cancelled() else fut.exception()
        unsettled = self._unsettled
        while unsettled and unsettled[0].done():
            unsettled.popleft()
            self.records_settled += 1
        flushes = self._flushes
        while flushes and (flushes[0][0] <= self.records_settled or self.refused is not None):
            waiting = flushes.popleft()[1]  # targets grow in the order flushes began
            if not waiting.done():
                waiting.set_result(None)

    def check_stored(self) -> None:
        """Raise if the broker refused any record put so far (the worker's stages call this after each
        flush; faust's own flushes, at its commits, rebalances and stop, do not, so they go on as before)."""
        if self.refused is not None:
            raise RecordsNotStored(f"the broker refused a record of this worker for good "
                                   f"({type(self.refused).__name__}: {self.refused}); restart the worker")

    async def flush(self) -> None:
        target = self.records_put
        if self.records_settled >= target or self.refused is not None:
            return
        if self.state == "running":
            settled: asyncio.Future[None] = self.loop.create_future()
            self._flushes.append((target, settled))
            if not (await self.wait_first(settled)).stopped:  # mode: stopped = the buffer stopped or crashed
                return
        raise RecordsNotStored(f"producer buffer {self.state}, {target - self.records_settled} records "
                               f"not acknowledged")

    async def on_stop(self) -> None:
        await ProducerBuffer.flush(self)  # faust's own, as before: this flush would wait on a stopping task


class PromptTransport(aiokafka_driver.Transport):
    Consumer = PromptConsumer


class MonitorApp(faust.App):
    """faust's App with the four changes above."""

    def _new_transport(self) -> Any:
        return PromptTransport(self.conf.broker_consumer, self)

    async def flush_stored(self) -> None:
        """Until every record produced so far has the broker's answer; raises `RecordsNotStored` if the
        broker refused one of them, ever (4. above)."""
        await self.producer.flush()
        cast(AcknowledgingProducerBuffer, self.producer.buffer).check_stored()

    def _new_producer(self) -> Any:
        producer = super()._new_producer()
        if self.conf.producer_threaded:  # that buffer hands records over in another thread, uncounted
            raise ValueError("the worker's producer flush (faust_fixes 4.) needs producer_threaded=False")
        buffer = AcknowledgingProducerBuffer(loop=producer.loop, beacon=producer.beacon)
        buffer.app = self
        buffer.max_messages = PRODUCER_BUFFER_MESSAGES
        producer.buffer = buffer  # before the producer starts, which starts its buffer
        return producer

"""One agent: take a batch from a topic, run a core stage over it, send what it produced, keep its state.

Every agent of the worker is a `StageAgent` around a `Work` (what the stage does with one item, and how
its outputs and states leave). The agent itself only moves batches:

1. **Exactly the records not yet processed.** Each record is held against the partition's position
   (`positions.py`): below it, a re-delivery, skipped; above it, the records in between are fetched from
   the broker (`broker_reader.py`) and processed first. So whatever faust delivers, twice or not at all
   around a rebalance, each input offset is applied once, in order.
2. **Outputs before state, state before position.** Outputs are sent and acknowledged by the broker, then
   the states are written to their table, then the producer is flushed (the changelog records are
   acknowledged), then the positions are written. A crash anywhere leaves a restored position that never
   claims more than the restored states hold; outputs sent again are recognised downstream (event ids,
   per-person sequence numbers, absolute day values, flag ids). A stage whose outputs depend on where a
   batch ends (the organisation's) sends them itself after its states, from within `Work.send`
   (agents/stages/organisation.py). The flush of one batch runs while the
   next batch is worked on (at most one flush outstanding; positions written in batch order), so the
   wait for the changelog's acknowledgements is not added to every hop's latency. An agent given a write
   interval (the person, unit and organisation stages) holds the states its batches changed, and the
   positions with them, for up to that interval and writes each changed state once: a person with ten
   events in ten seconds is one changelog record, not ten. It writes sooner once it has had no batch
   for `IDLE_WRITE_S`, and a write of many states goes out in slices (`WRITE_SLICE` states or
   `WRITE_SLICE_BYTES`), each acknowledged before the next is made, so the producer never holds a whole
   interval's records at once. Outputs are not held: each batch's are sent
   as before. If a batch fails while states are held, they are discarded (the failed batch may have
   changed them half-way) and the records since the last write are read again from the broker.
3. **A defect in one item never stops the rest.** If applying an item raises, the batch is split in halves
   and each half run on its own, down to the one item that fails: it goes to the dead-letter topic
   (`processing_failed`, with the exception's type, never its values) and everything else is processed.
   A dead letter never fails its batch (`dead_letters.py`). What fails a batch as a whole (the broker
   refusing the stage's output, say) is raised: faust restarts the agent and the records are tried
   again, and each failed attempt is counted per partition, so that /health can name a partition that
   fails every time (`health.py`).
4. **Nothing waits unnoticed.** Every few seconds, if faust delivered nothing to the agent since the last
   check, a partition that stands behind the broker's end is read with the broker reader (the records are
   known not to be processed: they are beyond the position). This catches records faust dropped when
   nothing comes after them; a busy agent is left to faust.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Sequence
from typing import Any, Generic, TypeVar

from streams.agents.runtime.broker_reader import BrokerReader
from streams.agents.runtime.positions import Positions
from streams.agents.runtime.records import InputRecord, from_faust
from streams.agents.runtime.stage_work import AgentStats, Item, PartitionProgress, Work, acknowledged
from streams.agents.runtime.state_cache import StateCache
from streams.models.rejections import Rejection, RejectReason

log = logging.getLogger(__name__)

B = TypeVar("B")
I = TypeVar("I")  # noqa: E741 - the item type

CATCH_UP_S = 5.0
#: states written to the table before the producer is flushed, in a write of many (a burst of records
#: waiting in the producer left its memory with the allocator: 1.1 KB a person at 100,000 persons with a
#: 10 s write interval against 0.67 KB at 2 s, BENCHMARKS.md)
WRITE_SLICE = 5_000
#: ... or this many bytes of them, whichever comes first (a unit's state is 33-105 KiB with a year's days)
WRITE_SLICE_BYTES = 8 * 2**20
#: held states are written before their interval has passed once the agent has had no batch for this
#: long: a drained backlog or a pause in the stream leaves nothing unwritten (records read again after a
#: crash, positions behind on /health) for the rest of the interval
IDLE_WRITE_S = 1.0


class _StatesHeld(Exception):
    """A batch failed while states changed by earlier batches were held unwritten."""


class StageAgent(Generic[B, I]):
    def __init__(self, *, name: str, topic: str, work: Work[B, I], positions: Positions, reader: BrokerReader,
                 flush: Any, dead_letter: Any, ready: Any, batch: int,
                 caches: Sequence[StateCache[Any]] = (), write_interval_s: float = 0.0) -> None:
        self.name, self.topic, self.work, self.batch = name, topic, work, batch
        self.positions, self.reader = positions, reader
        self._flush, self._dead_letter, self._ready = flush, dead_letter, ready
        self.lock = asyncio.Lock()
        self.stats = AgentStats()
        self._delivered = False
        self._ahead: dict[int, int] = {}  # positions processed whose states are not yet acknowledged
        self._durable: asyncio.Future[None] | None = None  # the last batch's flush and position write
        # What is held until the next write of states: the positions and finished batches since the last.
        self.caches, self.write_interval_s = list(caches), write_interval_s if caches else 0.0
        for cache in self.caches:
            cache.deferred = self.write_interval_s > 0
        self._held_last: dict[int, int] = {}
        self._held_finished: list[B] = []
        self._held_since: float | None = None
        self._last_batch = 0.0  # when the last batch was processed (monotonic)
        self._handed: dict[int, int] = {}  # positions handed to the durable chain, not yet written
        self._strict = False  # inside a failed batch's halves: every half's states written at once

    def _position(self, partition: int) -> int | None:
        ahead = self._ahead.get(partition)
        return ahead if ahead is not None else self.positions.get(partition)

    async def settle(self) -> None:
        """Until the states held and the positions of every batch processed are written (before
        partitions are taken away)."""
        try:
            await self._write_held()
            if self._durable is not None:
                await self._durable
        finally:
            self._durable = None
            self._drop_held()
            self._ahead.clear()
            self._handed.clear()

    def writing(self) -> bool:
        """A write's acknowledgements are awaited (the next write would wait for them)."""
        return self._durable is not None and not self._durable.done()

    async def write_held_if_due(self) -> None:
        """Write the states held once the oldest has waited the write interval, or once no batch came for
        `IDLE_WRITE_S` (the agent's timer)."""
        since, now = self._held_since, time.monotonic()
        if since is not None and (now - since >= self.write_interval_s or now - self._last_batch >= IDLE_WRITE_S):
            partitions = sorted(self._held_last)
            try:
                await self._write_held()
            except Exception as exc:  # counted as a batch's failure is, so /health names a write that always fails
                self._failed(partitions, exc)
                raise

    async def _advance(self, last: dict[int, int], finished: list[B]) -> None:
        """Hold `last` and the finished batches with the states they changed; write them once the write
        interval has passed since the oldest was held (at once, without an interval)."""
        self._ahead.update(last)
        self._held_last.update(last)
        self._held_finished += finished
        now = time.monotonic()
        if self._held_since is None:
            self._held_since = now
        if self.write_interval_s <= 0 or now - self._held_since >= self.write_interval_s:
            await self._write_held()

    async def _write_held(self) -> None:
        """Write the states held, then move the positions held once they are acknowledged, in batch
        order; waits for the previous write's flush, so at most one is outstanding."""
        last, finished = self._held_last, self._held_finished
        if not last and not finished:
            self._held_since = None
            return
        try:
            for cache in self.caches:
                # in slices, each acknowledged before the next is made: a write's records wait in the
                # producer as a few thousand at a time, not as every state of the interval at once
                cache.persist(WRITE_SLICE, WRITE_SLICE_BYTES)
                while cache.holding:
                    await self._flush()
                    cache.persist(WRITE_SLICE, WRITE_SLICE_BYTES)
        except BaseException:
            # States not written are lost with the cache's hold, so their records are read again from the
            # positions written (a state already in the table takes a record again as a redelivery, as
            # after a crash between the changelog and the positions).
            self._drop_held()
            raise
        self._held_last, self._held_finished, self._held_since = {}, [], None
        self._handed.update(last)
        previous = self._durable
        self._durable = asyncio.ensure_future(self._make_durable(previous, last, finished))
        if previous is not None:
            await previous

    def _drop_held(self) -> None:
        """Forget the states held and their positions: their records are read again from the positions
        written (a position handed to the durable chain stays)."""
        for cache in self.caches:
            cache.discard()
        for p in self._held_last:
            handed = self._handed.get(p)
            if handed is None:
                self._ahead.pop(p, None)
            else:
                self._ahead[p] = handed
        self._held_last, self._held_finished, self._held_since = {}, [], None

    def _holding_states(self) -> bool:
        return any(cache.holding for cache in self.caches)

    async def _make_durable(self, previous: asyncio.Future[None] | None, last: dict[int, int],
                            finished: list[B]) -> None:
        if previous is not None:
            await previous
        await self._flush()  # the states' changelog records are acknowledged before the positions move
        for p, position in last.items():
            self.positions.set(p, position)
            progress = self._progress(p)
            progress.position = position
            if progress.failures and (progress.failed_at is None or position > progress.failed_at):
                progress.failures, progress.failure, progress.failed_at = 0, None, None
            if self._ahead.get(p) == position:
                del self._ahead[p]
            if self._handed.get(p) == position:
                del self._handed[p]
        for batch in finished:
            self.work.done(batch)

    # -- the faust side ------------------------------------------------------------------------------
    async def on_batch(self, events: Sequence[Any]) -> None:
        await self.take([from_faust(e) for e in events])

    async def take(self, records: list[InputRecord]) -> bool:
        """Process records delivered by faust or read in bulk (`bulk_input.py`); False when the worker was
        not ready, and the records were left unprocessed."""
        async with self.lock:
            if not self._ready():
                # The positions are known only once the tables are recovered (a rebalance can hand over
                # records fetched before it): read now, a missing position would mean "from the start".
                # Left alone, the records stay beyond the position: the next delivery finds the hole, or
                # the catch-up (or the bulk reader) reads them once the worker is ready.
                self.stats.delivered_before_ready += 1
                return False
            self._delivered = True
            await self._process(records)
            return True

    async def positions_now(self, partitions: Iterable[int]) -> dict[int, int | None]:
        """The next offset to process on each partition (None: nothing processed yet), counting batches
        processed whose states are not written yet."""
        async with self.lock:
            return {p: self._position(p) for p in partitions}

    async def catch_up(self, assigned: Iterable[int]) -> None:
        """When faust delivered nothing to this agent since the last check, read what the assigned
        partitions hold beyond their positions (up to the ends seen now), `batch` records of each
        partition in turn, so that no partition runs ahead of the others in event time."""
        idle, self._delivered = not self._delivered, False
        if not idle or not self._ready():
            return
        try:
            parts = sorted(assigned)
            ends = await self.reader.end_offsets(self.topic, parts) if parts else {}
            logged: set[int] = set()
            while parts and not self._delivered and self._ready():
                progressed = False
                for p in parts:
                    async with self.lock:
                        position = self._position(p)
                        if position is None:
                            position = await self.reader.beginning_offset(self.topic, p)
                        end = min(ends.get(p, 0), position + self.batch)
                        if position >= end or not self._ready():
                            continue
                        if p not in logged:
                            logged.add(p)
                            log.info("%s: %s/%s stands at %s with records up to %s and nothing delivered; "
                                     "reading them", self.name, self.topic, p, position, ends[p] - 1)
                        fetched = await self.reader.read(self.topic, p, position, end)
                        self.stats.fetched_from_broker += len(fetched)
                        if fetched:
                            await self._process(fetched)
                            progressed = True
                        else:  # offsets that hold no record (transaction markers): known, so passed
                            await self._advance({p: end}, [])
                if not progressed:
                    break
        except Exception:  # noqa: BLE001 - a failed check is tried again at the next one
            log.warning("%s: catch-up check failed; trying again in %s s", self.name, CATCH_UP_S, exc_info=True)

    # -- the core of it ------------------------------------------------------------------------------
    def _progress(self, partition: int) -> PartitionProgress:
        found = self.stats.partitions.get(partition)
        if found is None:
            found = self.stats.partitions[partition] = PartitionProgress()
        return found

    async def _in_order(self, records: list[InputRecord]) -> list[InputRecord]:
        """The records to process: re-deliveries left out, missing offsets fetched and put in place, and
        at most `batch` records of each partition, so that no partition runs far ahead of the others in
        event time (the rest stays beyond the position and is read again: at the next delivery, which
        finds the hole, or by the catch-up)."""
        by_partition: dict[int, list[InputRecord]] = {}
        for r in records:
            by_partition.setdefault(r.partition, []).append(r)
        out: list[InputRecord] = []
        for p, recs in by_partition.items():
            position = self._position(p)
            if position is None:
                position = await self.reader.beginning_offset(self.topic, p)
            limit = position + self.batch
            for r in sorted(recs, key=lambda rec: rec.offset):
                if r.offset < position:
                    self.stats.redelivered_skipped += 1
                    continue
                if r.offset > position:
                    missing = await self.reader.read(self.topic, p, position, min(r.offset, limit))
                    if missing:
                        log.info("%s: %s/%s offsets %s-%s were not delivered; read from the broker",
                                 self.name, self.topic, p, position, missing[-1].offset)
                    self.stats.fetched_from_broker += len(missing)
                    out += missing
                    position = missing[-1].offset + 1 if missing else min(r.offset, limit)
                    if r.offset >= limit:
                        break
                out.append(r)
                position = r.offset + 1
                if position >= limit:
                    break
        return out

    async def _process(self, records: list[InputRecord]) -> None:
        try:
            await self._process_in_order(records)
        except Exception as exc:
            # faust restarts the agent (or the catch-up tries again): counted, so /health can tell a
            # partition that fails every time (agents/runtime/health.py)
            self._failed(sorted({r.partition for r in records}), exc)
            self._drop_held()  # the failed batch may have changed held states half-way
            raise

    def _failed(self, partitions: Iterable[int], exc: Exception) -> None:
        for p in partitions:
            progress = self._progress(p)
            progress.failures += 1
            progress.failure, progress.failed_at = type(exc).__name__, self._position(p)
        self.stats.failed_attempts += 1

    async def _process_in_order(self, records: list[InputRecord]) -> None:
        todo = await self._in_order(records)
        if not todo:
            return
        items: list[Item[I]] = []
        for r in todo:
            found = self.work.items(r)
            if isinstance(found, Rejection):
                await (await self._dead_letter(found, r.value))
            else:
                if len(found) > 1:
                    for i, item in enumerate(found):
                        item.index = i
                items += found
        finished: list[B] = []
        self._strict = False
        try:
            await self._run(items, finished)
        except _StatesHeld:
            # Discard what earlier batches changed (the failed batch may have changed it half-way) and
            # take their records again from the positions written, this time with nothing held.
            self._drop_held()
            await self._process_in_order(records)
            return
        finally:
            self._strict = False
        last: dict[int, int] = {}
        for r in todo:
            last[r.partition] = r.offset + 1
            self._progress(r.partition).processed += 1
        self.stats.processed += len(todo)
        self._last_batch = time.monotonic()
        await self._advance(last, finished)

    async def _run(self, items: list[Item[I]], finished: list[B]) -> None:
        """Apply, send and write `items` as one batch; on a defect, each half on its own, down to the item."""
        batch = self.work.begin()
        try:
            for item in items:
                self.work.apply(batch, item)
            self.work.close(batch)
        except Exception as exc:  # noqa: BLE001 - a defect in one item must not stop the others
            # The batch's states were taken out of the decoded cache, so the halves start again from the
            # table, which still holds the states as they were before this batch, unless states of
            # earlier batches are held unwritten: then those batches are taken again first.
            if not self._strict and self._holding_states():
                raise _StatesHeld from exc
            self._strict = True
            if len(items) == 1:
                await self._reject(items[0], exc)
                return
            half = len(items) // 2
            await self._run(items[:half], finished)
            await self._run(items[half:], finished)
            return
        await acknowledged(await self.work.send(batch))
        self.work.write(batch)
        if self._strict:  # a half of a failed batch: its states written before the next half reads them
            for cache in self.caches:
                cache.persist()
        finished.append(batch)

    async def _reject(self, item: Item[I], exc: Exception) -> None:
        self.stats.failed_items += 1
        where = item.record.where
        log.error("%s: processing failed at %s (event %s): %s; sent to the dead-letter topic", self.name, where,
                  item.event_id or "-", type(exc).__name__, exc_info=log.isEnabledFor(logging.DEBUG))
        rejection = Rejection(reason=RejectReason.PROCESSING_FAILED, source_offset=where, event_id=item.event_id,
                              message=f"the {self.name} stage failed on this item ({type(exc).__name__}); "
                                      f"the rest of the stream went on")
        await (await self._dead_letter(rejection, item.raw, item.index))

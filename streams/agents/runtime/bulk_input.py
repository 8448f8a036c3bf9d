"""The input topic read in bulk: the records of the input partitions this worker owns, straight from the
broker, handed to the ingest agent a batch at a time.

faust hands an agent one record at a time through its conductor, stream and event machinery: on this
machine that alone caps an agent at ~6,000-12,000 records a second, and it was about a third of the
worker's time (BENCHMARKS.md, section 2). The internal topics carry one message per batch, so only the
input topic pays it per event. This reader fetches the input with one aiokafka consumer of its own, as
the broker reader already does for holes and catch-up (`broker_reader.py`), and the ingest agent
(`stage_agent.py`) processes what it reads exactly as it processes what faust delivers: held against
its positions, in order, outputs before states before positions.

**Which partitions.** faust does not subscribe the input topic. The worker reads partition p of it when
faust assigns it partition p of the topic it follows (person-events: same partition count, the same
group, so faust's assignor gives partition p of both, and of the tables, to one worker: faust's
co-partitioning). A rebalance moves the partition with the positions table's partition p, as before.

**Where it reads from.** From the agent's own positions, never from a committed offset: each time the
partitions owned change, or the worker becomes ready after a rebalance or a table recovery, or a
batch fails, the consumer is pointed at the positions again. A record read before such a change is
dropped, not processed. What the agent skips or fetches again is decided by its positions whatever
this reader does, so no offset is ever trusted to it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import TopicPartition

from streams.agents.runtime.broker_reader import WAIT_MS
from streams.agents.runtime.records import from_aiokafka
from streams.agents.runtime.stage_agent import StageAgent

log = logging.getLogger(__name__)

#: Bytes fetched ahead per partition (the worker's faust consumer fetches 256 KiB).
FETCH_BYTES = 1024 * 1024
#: After a batch fails, the partitions are read again from the positions after this many seconds,
#: doubling up to RETRY_MAX_S while it goes on failing (faust restarts an agent the same way).
RETRY_S, RETRY_MAX_S = 0.5, 8.0


class BulkInput:
    """Feeds `stage` the records of the partitions `owned()` returns, read from `topic` in bulk.
    `generation()` changes at every rebalance (faust's consumer generation)."""

    def __init__(self, stage: StageAgent[Any, Any], open_consumer: Callable[[], Awaitable[Any]],
                 owned: Callable[[], list[int]], ready: Callable[[], bool],
                 generation: Callable[[], int]) -> None:
        self.stage, self.topic, self._open = stage, stage.topic, open_consumer
        self._owned, self._ready, self._generation = owned, ready, generation
        self._consumer: Any = None
        self._reading: tuple[tuple[int, ...], int] | None = None  # the partitions and generation read now

    async def run(self) -> None:
        """Read until cancelled (the worker stopping)."""
        retry = RETRY_S
        try:
            while True:
                try:
                    await self.step()
                    retry = RETRY_S
                except asyncio.CancelledError:
                    raise
                except Exception:  # noqa: BLE001 - counted by the agent (/health); read again from its positions
                    log.warning("%s: reading %s in bulk failed; reading again from the positions in %.1f s",
                                self.stage.name, self.topic, retry, exc_info=True)
                    self._reading = None
                    await asyncio.sleep(retry)
                    retry = min(RETRY_MAX_S, retry * 2)
        finally:
            await self.stop()

    async def stop(self) -> None:
        if self._consumer is not None:
            consumer, self._consumer = self._consumer, None
            await consumer.stop()

    async def step(self) -> None:
        """One read, and its records processed (none while the worker is not ready or owns nothing)."""
        if not self._ready():
            self._reading = None
            await asyncio.sleep(WAIT_MS / 1000)
            return
        wanted = (tuple(self._owned()), self._generation())
        if wanted != self._reading:
            await self._point_at_positions(wanted[0])
            self._reading = wanted
        if not wanted[0]:
            await asyncio.sleep(WAIT_MS / 1000)
            return
        consumer = await self._client()
        fetched = await consumer.getmany(timeout_ms=WAIT_MS, max_records=self.stage.batch)
        records = [from_aiokafka(r) for recs in fetched.values() for r in recs]
        if not records:
            return
        # Read before a rebalance (or a table recovery) that came meanwhile: dropped, and the partitions
        # read again from the positions as they are after it.
        if not self._ready() or (tuple(self._owned()), self._generation()) != self._reading:
            self._reading = None
            return
        processed = await self.stage.take(records)
        if not processed:  # the agent did not take them (not ready once inside its lock): read again
            self._reading = None

    async def _point_at_positions(self, partitions: tuple[int, ...]) -> None:
        consumer = await self._client()
        tps = [TopicPartition(self.topic, p) for p in partitions]
        consumer.assign(tps)
        positions = await self.stage.positions_now(partitions)
        for tp in tps:
            position = positions.get(tp.partition)
            if position is None:
                await consumer.seek_to_beginning(tp)
            else:
                consumer.seek(tp, position)
        if partitions:
            log.info("%s: reading %s partitions %s in bulk from the agent's positions", self.stage.name,
                     self.topic, ",".join(map(str, partitions)))

    async def _client(self) -> Any:
        if self._consumer is None:
            self._consumer = await self._open()
        return self._consumer


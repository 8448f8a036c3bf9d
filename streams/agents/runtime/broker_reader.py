"""Reads given offset ranges straight from the broker, outside the group's consumer.

The worker knows, from its own state, the next offset it must process on each input partition
(`streams/agents/runtime/positions.py`). When faust delivers a record beyond that offset, or a partition stands
behind the broker's end while faust delivers nothing, the records in between are *known* not to have
been processed (faust can drop fetched records around a rebalance or the end of a table recovery:
upstream robinhood/faust#559 and #625). This reader fetches exactly that range, so the
agent processes it in order; faust's own consumer is never seeked. Offsets that hold no record
(transaction markers, compaction) come back as nothing, which is the proof that nothing is missing.
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaConsumer, TopicPartition

from streams.agents.runtime.records import InputRecord, from_aiokafka
from streams.kafka_access import KafkaAccess

log = logging.getLogger(__name__)

MAX_RECORDS = 5000
#: How long a fetch waits for records when there are none (the broker answers as soon as records come).
WAIT_MS = 100


async def started_consumer(bootstrap: str, client_id: str, access: KafkaAccess, fetch_bytes: int) -> AIOKafkaConsumer:
    """A consumer outside any group, assigned partitions by hand, never committing; it fetches up to
    `fetch_bytes` ahead per partition. The broker reader's and the bulk input's (bulk_input.py)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, client_id=client_id, group_id=None,
                                enable_auto_commit=False, auto_offset_reset="earliest", fetch_max_wait_ms=WAIT_MS,
                                max_partition_fetch_bytes=fetch_bytes, **access.aiokafka())
    await consumer.start()
    return consumer


class BrokerReader:
    def __init__(self, bootstrap: str, client_id: str, access: KafkaAccess | None = None) -> None:
        self.bootstrap, self.client_id = bootstrap, client_id
        self.access = access or KafkaAccess()
        self._consumer: AIOKafkaConsumer | None = None
        self._lock = asyncio.Lock()
        self._start_lock = asyncio.Lock()  # one reader for every agent: one range at a time
        self.records_read = 0

    async def _client(self) -> AIOKafkaConsumer:
        async with self._start_lock:
            return await self._started()

    async def _started(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            self._consumer = await started_consumer(self.bootstrap, self.client_id, self.access, 4 * 1024 * 1024)
        return self._consumer

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    async def end_offsets(self, topic: str, partitions: list[int]) -> dict[int, int]:
        consumer = await self._client()
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
        return {tp.partition: int(end) for tp, end in ends.items()}

    async def beginning_offset(self, topic: str, partition: int) -> int:
        consumer = await self._client()
        tp = TopicPartition(topic, partition)
        return int((await consumer.beginning_offsets([tp]))[tp])

    async def read(self, topic: str, partition: int, start: int, end: int) -> list[InputRecord]:
        """The records with start <= offset < end, in offset order."""
        async with self._lock:
            return await self._read(topic, partition, start, end)

    async def _read(self, topic: str, partition: int, start: int, end: int) -> list[InputRecord]:
        consumer = await self._client()
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        consumer.seek(tp, start)
        out: list[InputRecord] = []
        while await consumer.position(tp) < end:
            batch = await consumer.getmany(tp, timeout_ms=1000, max_records=MAX_RECORDS)
            for rec in batch.get(tp, ()):
                if rec.offset >= end:
                    break
                if rec.offset >= start:
                    out.append(from_aiokafka(rec))
        if out and out[0].offset > start:
            gone = out[0].offset - start
            first = await self.beginning_offset(topic, partition)
            if first > start:
                log.warning("%s/%s: offsets %s-%s were removed by retention before they were processed",
                            topic, partition, start, first - 1)
            else:
                log.debug("%s/%s: %s offsets from %s hold no record", topic, partition, gone, start)
        self.records_read += len(out)
        return out


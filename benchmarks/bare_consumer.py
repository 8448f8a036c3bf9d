"""The baseline of live throughput (section 2): a bare aiokafka consumer that reads a topic and
JSON-decodes each record, nothing else; `bare_faust.py` is the framework's own ceiling beside it."""

from __future__ import annotations

import json
import time
import uuid


async def bare_consume(topic: str, expected: int) -> float:
    from aiokafka import AIOKafkaConsumer

    from tests.integration.live import BOOTSTRAP

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=BOOTSTRAP, auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=f"bare-{uuid.uuid4().hex[:6]}")
    await consumer.start()
    n = 0
    started = None
    try:
        while n < expected:
            batch = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            if batch and started is None:
                started = time.perf_counter()
            for records in batch.values():
                for record in records:
                    json.loads(record.value)  # the baseline reads *and decodes*, as the worker must
                n += len(records)
    finally:
        await consumer.stop()
    return n / (time.perf_counter() - (started or time.perf_counter()))

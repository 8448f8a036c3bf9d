"""The baseline of live throughput (section 2): a bare aiokafka consumer that reads a topic and
JSON-decodes each record, nothing else; `bare_faust.py` is the framework's own ceiling beside it.

The clock starts before the first fetch (a consumer's first fetch already buffers tens of thousands of
records, which a clock started at the first record would not count), and the consumer reads the topic
again from its beginning until at least `MIN_SECONDS` have passed: a drain of under a second measured
mostly the start-up, and its runs ranged from 70k to 122k events/s."""

from __future__ import annotations

import json
import time

MIN_SECONDS = 5.0


async def bare_consume(topic: str, expected: int, min_seconds: float = MIN_SECONDS) -> dict[str, float]:
    """Events per second (and the events and seconds it took) of reading and decoding `topic`, at least
    `expected` records and at least `min_seconds`."""
    from aiokafka import AIOKafkaConsumer

    from tests.integration.live import BOOTSTRAP

    # No consumer group (every partition is read): a group's join, where the broker waits 3 s for more
    # members, would be inside the clock and is no part of reading.
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=BOOTSTRAP, auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None)
    await consumer.start()
    n = read = 0
    started = time.perf_counter()
    try:
        while n < expected or time.perf_counter() - started < min_seconds:
            batch = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            for records in batch.values():
                for record in records:
                    json.loads(record.value)  # the baseline reads *and decodes*, as the worker must
                n += len(records)
                read += len(records)
            if read >= expected:  # once through the topic: read it again from its beginning
                await consumer.seek_to_beginning()
                read = 0
        seconds = time.perf_counter() - started
    finally:
        await consumer.stop()
    return {"eps": n / seconds, "events": float(n), "seconds": seconds}

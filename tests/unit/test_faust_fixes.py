"""The two changes to faust-streaming (streams/agents/faust_fixes.py) still take effect (after an upgrade,
say): a short fetch wait and room for a batch's table writes."""

from __future__ import annotations

import asyncio
from typing import Any

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

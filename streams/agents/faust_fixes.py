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

`tests/unit/test_faust_fixes.py` fails if either stops taking effect (after an upgrade, say).
"""

from __future__ import annotations

from typing import Any

import faust
from faust.transport.drivers import aiokafka as aiokafka_driver

FETCH_MAX_WAIT_MS = 100
PRODUCER_BUFFER_MESSAGES = 50_000


class PromptConsumerThread(aiokafka_driver.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer


class PromptConsumer(aiokafka_driver.Consumer):
    def _new_consumer_thread(self) -> Any:
        return PromptConsumerThread(self, loop=self.loop, beacon=self.beacon)


class PromptTransport(aiokafka_driver.Transport):
    Consumer = PromptConsumer


class MonitorApp(faust.App):
    """faust's App with the two changes above."""

    def _new_transport(self) -> Any:
        return PromptTransport(self.conf.broker_consumer, self)

    def _new_producer(self) -> Any:
        producer = super()._new_producer()
        producer.buffer.max_messages = PRODUCER_BUFFER_MESSAGES
        return producer

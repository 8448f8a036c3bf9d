"""The producers the stages' batch messages leave through: one for each internal topic, beside faust's own.

aiokafka keeps one produce request in flight to each broker (its sender drains a broker's batches only when
no request to it is outstanding: `Sender._sender_routine`, aiokafka 0.14.0). Through faust's one producer,
a stage's batch messages therefore waited behind every other stage's messages and every table's changelog
records before the broker acknowledged them, and each stage waits for those acknowledgements before its
states and positions move. With a producer for each internal topic (each is sent by one stage), a stage's
acknowledgements wait only for its own requests: a draining worker was ~10% faster (BENCHMARKS.md, "The
worker"). Flags, dead letters, the inbox's records and the tables' changelogs stay with faust's producer.

Nothing else changes in what is guaranteed: a stage still awaits every acknowledgement of a batch's
outputs before it writes its states, and a refusal fails the batch, which is processed again from its
positions (`stage_agent.py`). The producers are made with faust's producer settings (acks, linger,
request sizes and timeout) and the worker's Kafka access, when a topic is first sent to, and stopped
(what they hold sent first) when the worker stops.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaProducer

from streams.kafka_access import KafkaAccess


def producer_settings(conf: Any, bootstrap: str, client_id: str, access: KafkaAccess) -> dict[str, Any]:
    """aiokafka's arguments for a producer that sends as faust's does (`conf`: the app's faust settings)."""
    return {"bootstrap_servers": bootstrap, "client_id": client_id,
            "acks": "all" if conf.producer_acks == -1 else conf.producer_acks,
            "linger_ms": int(conf.producer_linger * 1000), "max_batch_size": conf.producer_max_batch_size,
            "max_request_size": conf.producer_max_request_size,
            "compression_type": conf.producer_compression_type,
            "request_timeout_ms": int(conf.producer_request_timeout * 1000), **access.aiokafka()}


class OutputProducers:
    """A started producer per topic, made by `make(topic)` when the topic is first sent to."""

    def __init__(self, make: Callable[[str], Awaitable[Any]]) -> None:
        self._make = make
        self._producers: dict[str, Any] = {}
        self._lock = asyncio.Lock()

    @classmethod
    def like_faust(cls, conf: Any, bootstrap: str, client_id: str, access: KafkaAccess) -> OutputProducers:
        async def make(topic: str) -> AIOKafkaProducer:
            producer = AIOKafkaProducer(**producer_settings(conf, bootstrap, f"{client_id}-{topic}", access))
            try:
                await producer.start()
            except BaseException:
                await producer.stop()  # its client's connections, opened before the start failed
                raise
            return producer

        return cls(make)

    async def send(self, topic: str, value: bytes, partition: int) -> asyncio.Future[Any]:
        """Hand one record to `topic`'s producer; returns the future of its acknowledgement."""
        producer = self._producers.get(topic)
        if producer is None:
            async with self._lock:
                producer = self._producers.get(topic)
                if producer is None:  # a producer that failed to start is not kept: the next send tries again
                    producer = self._producers[topic] = await self._make(topic)
        future: asyncio.Future[Any] = await producer.send(topic, value, partition=partition)
        return future

    async def stop(self) -> None:
        """Send what the producers hold and close them."""
        producers, self._producers = list(self._producers.values()), {}
        stopped = await asyncio.gather(*(producer.stop() for producer in producers), return_exceptions=True)
        for outcome in stopped:  # every producer is stopped, then the first failure is raised
            if isinstance(outcome, BaseException):
                raise outcome

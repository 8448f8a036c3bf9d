"""The producers of the stages' batch messages (agents/runtime/output_producers.py), the broker replaced by
plain objects: one producer per topic, sending as faust's does; a producer that failed to start is made
again at the next send; stopping sends what they hold."""

from __future__ import annotations

import asyncio
from typing import Any

import faust
import pytest

from streams.agents.runtime.output_producers import OutputProducers, producer_settings
from streams.agents.worker import DELIVERY_OPTIONS
from streams.kafka_access import KafkaAccess


class Producer:
    def __init__(self, topic: str) -> None:
        self.topic, self.sent, self.held, self.stopped = topic, [], [], False  # type: ignore[var-annotated]

    async def send(self, topic: str, value: bytes, partition: int) -> asyncio.Future[Any]:
        assert topic == self.topic and not self.stopped
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.held.append((partition, value, future))
        return future

    async def stop(self) -> None:
        for partition, value, future in self.held:  # what it holds is sent before it closes
            self.sent.append((partition, value))
            future.set_result(None)
        self.held, self.stopped = [], True


def test_each_topic_has_a_producer_of_its_own_and_stopping_sends_what_they_hold() -> None:
    made: list[Producer] = []

    async def make(topic: str) -> Producer:
        made.append(Producer(topic))
        return made[-1]

    async def run() -> list[asyncio.Future[Any]]:
        producers = OutputProducers(make)
        acks = [await producers.send("person-events", b"a", 0), await producers.send("unit-updates", b"b", 0),
                await producers.send("person-events", b"c", 3)]
        assert [p.topic for p in made] == ["person-events", "unit-updates"]
        assert not any(a.done() for a in acks)
        await producers.stop()
        return acks

    acks = asyncio.run(run())
    assert all(a.done() for a in acks)
    assert [(p.topic, p.sent, p.stopped) for p in made] == [
        ("person-events", [(0, b"a"), (3, b"c")], True), ("unit-updates", [(0, b"b")], True)]


def test_a_producer_that_failed_to_start_is_made_again_at_the_next_send() -> None:
    attempts: list[str] = []

    async def make(topic: str) -> Producer:
        attempts.append(topic)
        if len(attempts) == 1:
            raise ConnectionError("broker not there yet")
        return Producer(topic)

    async def run() -> None:
        producers = OutputProducers(make)
        with pytest.raises(ConnectionError):  # the batch fails, and is processed again from its positions
            await producers.send("person-events", b"a", 0)
        await producers.send("person-events", b"a", 0)
        await producers.send("person-events", b"b", 0)
        await producers.stop()

    asyncio.run(run())
    assert attempts == ["person-events", "person-events"]


def test_the_producers_send_as_the_workers_faust_producer_does() -> None:
    conf = faust.App("t", **DELIVERY_OPTIONS).conf
    settings = producer_settings(conf, "127.0.0.1:9092", "om-outputs-x", KafkaAccess())
    assert settings["acks"] == "all"  # every replica in sync has it before a stage moves on
    assert settings["linger_ms"] == int(DELIVERY_OPTIONS["producer_linger"] * 1000)
    assert settings["max_request_size"] == conf.producer_max_request_size
    assert settings["request_timeout_ms"] == int(conf.producer_request_timeout * 1000)
    assert settings["security_protocol"] == "PLAINTEXT"

"""A worker started while the broker restarts waits for it at start-up instead of exiting; a refusal
(a topic with another partition count) is not waited on."""

from __future__ import annotations

from typing import Any

import pytest
from kafka.errors import KafkaConnectionError

from streams.agents.runtime import topics
from streams.agents.runtime.topics import TopicMismatch, once_the_broker_answers


def test_a_broker_that_refuses_connections_for_a_while_is_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(topics.time, "sleep", slept.append)
    answers: list[Any] = [KafkaConnectionError("111 ECONNREFUSED")] * 3 + ["created"]

    def call() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return str(answer)

    assert once_the_broker_answers(call, "test") == "created"
    assert slept == [1.0, 2.0, 4.0]


def test_a_refusal_is_raised_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(topics.time, "sleep", lambda s: pytest.fail("a refusal must not be waited on"))

    def call() -> None:
        raise TopicMismatch("care.events has 4 partitions, expected 8")

    with pytest.raises(TopicMismatch):
        once_the_broker_answers(call, "test")


def test_a_broker_that_never_answers_is_given_up_on(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [0.0]
    monkeypatch.setattr(topics.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(topics.time, "sleep", lambda s: clock.__setitem__(0, clock[0] + s))

    def call() -> None:
        raise KafkaConnectionError("111 ECONNREFUSED")

    with pytest.raises(KafkaConnectionError):
        once_the_broker_answers(call, "test", wait_s=30.0)
    assert clock[0] <= 30.0

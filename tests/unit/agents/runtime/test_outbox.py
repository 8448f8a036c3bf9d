"""Batches on the internal topics: each item reaches the partition its key hashes to (the partition whose
table entries the receiving agent owns), in order, in messages of bounded size."""

from __future__ import annotations

import json

import pytest
from aiokafka.partitioner import DefaultPartitioner

from streams.agents.runtime import outputs
from streams.agents.runtime.outputs import Outbox
from streams.agents.runtime.partitioning import partition_of


def test_a_key_goes_where_kafkas_default_partitioner_puts_it() -> None:
    partitions = list(range(8))
    for key in ("a", "hr-unit-01", "0f3c9e" * 10, "åäö"):
        assert partition_of(key, 8) == DefaultPartitioner()(key.encode(), partitions, partitions)


def test_items_are_grouped_by_partition_and_keep_their_order() -> None:
    box = Outbox("events", 4)
    keys = [f"person-{i % 7}" for i in range(50)]
    for i, key in enumerate(keys):
        box.add(key, json.dumps({"key": key, "i": i}).encode())
    seen: dict[str, list[int]] = {}
    for partition, body in box.messages():
        for item in json.loads(body)["events"]:
            assert partition_of(item["key"], 4) == partition
            seen.setdefault(item["key"], []).append(item["i"])
    assert sum(len(v) for v in seen.values()) == 50
    assert all(v == sorted(v) for v in seen.values())


def test_a_large_batch_is_split_into_messages_of_bounded_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outputs, "OUTBOX_BYTES", 1000)
    box = Outbox("events", 1)
    for i in range(100):
        box.add("same-key", json.dumps({"i": i, "pad": "x" * 80}).encode())
    messages = list(box.messages())
    assert len(messages) > 5 and all(len(body) <= 1100 for _, body in messages)
    assert [item["i"] for _, body in messages for item in json.loads(body)["events"]] == list(range(100))

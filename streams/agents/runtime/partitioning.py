"""Which partition a key belongs to: Kafka's default (murmur2, as the Java client and aiokafka hash),
so a batch addressed to a partition and the table entries written by key land together."""

from __future__ import annotations

from aiokafka.partitioner import murmur2


def partition_of(key: str, partitions: int) -> int:
    return partition_of_bytes(key.encode(), partitions)


def partition_of_bytes(key: bytes, partitions: int) -> int:
    return int((murmur2(key) & 0x7FFFFFFF) % partitions)

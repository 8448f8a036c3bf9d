"""Which partition a key belongs to: Kafka's default (murmur2, as the Java client and aiokafka hash),
so a batch addressed to a partition and the table entries written by key land together.

`murmur2` is aiokafka's hash (`aiokafka.partitioner.murmur2`, the Java client's `Utils.murmur2`) taking the
key's 4-byte words in one `struct` call instead of byte by byte: ~1.9x faster. faust hashes every table
write's key again to find its changelog partition (its tables have no event to take one from), so the worker's
producer partitions with it too (`KafkaDefaultPartitioner`, faust's `producer_partitioner` setting).
A key's partition is remembered for the last `KEYS_REMEMBERED` keys asked (~3 MB when full): a person's
pseudonym is hashed when ingest addresses the person's events and again when the person's state is
written, a unit's id for every update sent to it and every write of its state; a remembered key costs
~0.05 us against ~0.7-1.8 us for the hash. `tests/unit/agents/runtime/test_partitioning.py` holds both to
aiokafka's on any bytes."""

from __future__ import annotations

import random
import struct
from collections.abc import Callable, Sequence
from functools import lru_cache

_SEED = 0x9747B28C
_M = 0x5BD1E995
_MASK = 0xFFFFFFFF
_WORDS: dict[int, Callable[[bytes], tuple[int, ...]]] = {}
#: keys whose partition is remembered, the least recently asked forgotten first
KEYS_REMEMBERED = 16_384


def murmur2(data: bytes) -> int:
    length = len(data)
    h = _SEED ^ length
    words = length >> 2
    if words:
        unpack = _WORDS.get(words)
        if unpack is None:
            unpack = _WORDS[words] = struct.Struct(f"<{words}I").unpack_from
        for k in unpack(data):
            k = (k * _M) & _MASK
            k ^= k >> 24
            h = ((h * _M) & _MASK) ^ ((k * _M) & _MASK)
    extra = length & 3
    if extra:
        tail = length & ~3
        if extra == 3:
            h ^= data[tail + 2] << 16
        if extra >= 2:
            h ^= data[tail + 1] << 8
        h ^= data[tail]
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    return h ^ (h >> 15)


def partition_of(key: str, partitions: int) -> int:
    return partition_of_bytes(key.encode(), partitions)


@lru_cache(maxsize=KEYS_REMEMBERED)
def partition_of_bytes(key: bytes, partitions: int) -> int:
    return (murmur2(key) & 0x7FFFFFFF) % partitions


class KafkaDefaultPartitioner:
    """aiokafka's `DefaultPartitioner` (a key's murmur2 over all partitions; no key: a random available
    one), with the faster hash."""

    def __call__(self, key: bytes | None, all_partitions: Sequence[int], available: Sequence[int]) -> int:
        if key is None:
            return random.choice(available or all_partitions)
        if type(key) is not bytes:  # a bytearray or memoryview, as aiokafka's takes: remembered as bytes
            key = bytes(key)
        return all_partitions[partition_of_bytes(key, len(all_partitions))]

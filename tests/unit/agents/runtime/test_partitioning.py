"""The worker's key hash and partitioner (agents/runtime/partitioning.py) are Kafka's: the same partition as
aiokafka's (and so the Java client's) for any key, or a batch and its table entries land apart."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner
from aiokafka.partitioner import murmur2 as aiokafka_murmur2
from hypothesis import given
from hypothesis import strategies as st

from streams.agents.runtime.partitioning import KafkaDefaultPartitioner, murmur2, partition_of


@given(st.binary(max_size=300))
def test_the_hash_is_aiokafkas_murmur2_for_any_bytes(data: bytes) -> None:
    assert murmur2(data) == aiokafka_murmur2(data)


@given(st.binary(max_size=80), st.integers(1, 64))
def test_the_partitioner_picks_aiokafkas_partition_for_any_key(key: bytes, count: int) -> None:
    partitions = list(range(count))
    expected = DefaultPartitioner()(key, partitions, partitions)
    assert KafkaDefaultPartitioner()(key, partitions, partitions) == expected
    # asked again: a remembered key (remembered with its partition count)
    assert KafkaDefaultPartitioner()(bytes(key), partitions, partitions) == expected
    assert KafkaDefaultPartitioner()(bytearray(key), partitions, partitions) == expected  # type: ignore[arg-type]


def test_known_partitions_of_the_java_client() -> None:
    # Kafka's own test vectors (clients/src/test/.../UtilsTest.java, testMurmur2)
    vectors = {b"21": -973932308, b"foobar": -790332482, b"a-little-bit-long-string": -985981536,
               b"a-little-bit-longer-string": -1486304829, b"abc": 479470107,
               b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971}
    for key, signed in vectors.items():
        assert murmur2(key) == signed & 0xFFFFFFFF
    assert partition_of("person:1", 8) == (aiokafka_murmur2(b"person:1") & 0x7FFFFFFF) % 8


def test_a_record_without_key_goes_to_an_available_partition() -> None:
    assert KafkaDefaultPartitioner()(None, [0, 1, 2], [2]) == 2
    assert KafkaDefaultPartitioner()(None, [0, 1, 2], []) in (0, 1, 2)


def test_the_worker_producer_partitions_with_it() -> None:
    import asyncio

    from streams.agents.worker import build_app
    from streams.observe.metrics import Metrics
    from streams.settings import Settings

    async def build() -> object:
        app = build_app(Settings(bootstrap_servers="127.0.0.1:1", allow_demo_key=True), Metrics())
        return app.producer._settings_default()["partitioner"]

    assert isinstance(asyncio.run(build()), KafkaDefaultPartitioner)

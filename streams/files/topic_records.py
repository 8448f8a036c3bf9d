"""A topic read once from its beginning to the end it had when reading began: what a command needs of a
compacted topic (the flag store's view, the programmes' figures), with the last record of a key winning."""

from __future__ import annotations

from collections.abc import Iterator

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from streams.kafka_access import KafkaAccess


def records_to_end(bootstrap: str, topic: str, access: KafkaAccess | None = None,
                   client_id: str = "outcome-monitor") -> Iterator[ConsumerRecord]:
    """Every record of `topic` up to its current end, partition by partition in offset order; nothing
    for a topic that does not exist."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, client_id=client_id,
                             **(access or KafkaAccess()).kafka_python())
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not tps:
            return
        consumer.assign(tps)
        consumer.seek_to_beginning()
        ends = consumer.end_offsets(tps)
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            for records in consumer.poll(timeout_ms=1000).values():
                yield from records
    finally:
        consumer.close()

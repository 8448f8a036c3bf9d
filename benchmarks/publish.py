"""Benchmark events onto a Kafka topic, as they are: keyed by person (or unit), each record carrying the
arrival header (the latest event time so far), the topic created with the partitions asked for."""

from __future__ import annotations

import datetime as dt
import json


def publish_lines(topic: str, lines: list[bytes], partitions: int) -> None:
    from kafka import KafkaProducer

    from streams.agents.runtime.topics import TopicSpec, ensure_topics
    from streams.models.events import ARRIVAL_HEADER
    from tests.integration.live import BOOTSTRAP

    ensure_topics(BOOTSTRAP, [TopicSpec(topic, partitions)])
    producer = KafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", linger_ms=10, batch_size=256 * 1024)
    clock = 0
    for line in lines:
        doc = json.loads(line)
        try:
            t = int(dt.datetime.fromisoformat(doc["occurred_at"]).timestamp())
        except (KeyError, ValueError, TypeError):
            t = clock
        clock = max(clock, t)
        key = str(doc.get("person_id") or doc.get("unit_id") or "").encode() or None
        producer.send(topic, key=key, value=line, headers=[(ARRIVAL_HEADER, str(clock).encode())])
    producer.flush()
    producer.close()

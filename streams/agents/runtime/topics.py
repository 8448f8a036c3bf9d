"""Create the project's topics explicitly at start-up, so auto-creation never picks a wrong count."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import BrokerNotAvailableError, KafkaConnectionError, KafkaTimeoutError, TopicAlreadyExistsError

from streams.kafka_access import KafkaAccess

log = logging.getLogger(__name__)

T = TypeVar("T")
#: How long a worker starting while the broker does not answer (restarting, say) tries again before giving up.
BROKER_WAIT_S = 120.0


def once_the_broker_answers(call: Callable[[], T], what: str, wait_s: float = BROKER_WAIT_S) -> T:
    """`call()`, tried again while the broker does not answer, for up to `wait_s` (a refusal, such as a
    topic with another partition count, is raised at once)."""
    deadline, delay = time.monotonic() + wait_s, 1.0
    while True:
        try:
            return call()
        except (BrokerNotAvailableError, KafkaConnectionError, KafkaTimeoutError) as exc:
            if time.monotonic() + delay > deadline:
                raise
            log.warning("%s: the broker does not answer (%s); trying again in %.0f s", what, type(exc).__name__,
                        delay)
            time.sleep(delay)
            delay = min(10.0, delay * 2)


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)


class TopicMismatch(RuntimeError):
    pass


def ensure_topics(bootstrap: str, specs: list[TopicSpec], access: KafkaAccess | None = None,
                  replication_factor: int = 1, timeout_ms: int = 30_000) -> list[str]:
    """Create what is missing; refuse to run on an existing topic with another partition count."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="outcome-monitor-admin",
                             request_timeout_ms=timeout_ms, **(access or KafkaAccess()).kafka_python())
    created = []
    try:
        existing = set(admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        for spec in missing:
            try:
                admin.create_topics([NewTopic(spec.name, spec.partitions, replication_factor,
                                              topic_configs=spec.config)])
                created.append(spec.name)
            except TopicAlreadyExistsError:
                pass
        present = [s for s in specs if s.name in existing]
        if present:
            described = {d.get("name", d.get("topic")): len(d["partitions"])
                         for d in admin.describe_topics([s.name for s in present])}
            wrong = [f"{s.name} has {described.get(s.name)} partitions, expected {s.partitions}"
                     for s in present if described.get(s.name) != s.partitions]
            if wrong:
                raise TopicMismatch("; ".join(wrong))
    finally:
        admin.close()
    if created:
        log.info("created topics: %s", ", ".join(created))
    return created


def kept_partitions(bootstrap: str, name: str, allowed: tuple[int, ...], access: KafkaAccess | None = None,
                    timeout_ms: int = 30_000) -> int | None:
    """The partition count of an existing topic whose count a deployment keeps (None: no such topic yet);
    refuse one with a count not in `allowed`."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="outcome-monitor-admin",
                             request_timeout_ms=timeout_ms, **(access or KafkaAccess()).kafka_python())
    try:
        if name not in set(admin.list_topics()):
            return None
        described = admin.describe_topics([name])
    finally:
        admin.close()
    count = len(described[0]["partitions"])
    if count not in allowed:
        raise TopicMismatch(f"{name} has {count} partitions, expected one of {', '.join(map(str, allowed))}")
    return count

"""What the worker's agents share: topics, tables, decoded-state caches and the ways to send.

    care.events ──ingest──▶ person-events ──persons──▶ unit-updates ──units──▶ day-summaries ──org──▶
    outcome.flags ──flag store          (rejections ──▶ care.events.rejected)

Internal topics carry *batches*: one message per destination partition per batch of the sending agent
(`Outbox`), because a worker spends its time in per-message machinery, not in the monitor's own work.
A batch goes to the partition its keys hash to (Kafka's default partitioner), the one whose table
entries the receiving agent owns.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import faust
from pydantic import BaseModel, ValidationError

from streams.agents.codec import loads_dict
from streams.agents.partitioning import partition_of
from streams.agents.state_cache import StateCache
from streams.core.config import MonitorConfig
from streams.core.org import OrgState
from streams.core.person import PersonState
from streams.core.unit import UnitState
from streams.metrics import Metrics
from streams.models.flags import Flag, FlagStatus
from streams.models.internal import DeadLetter
from streams.models.rejections import Rejection, RejectReason
from streams.settings import Settings

log = logging.getLogger(__name__)

ORG_KEY = "org"
#: Agents reading batch messages take up to this many at once (each holds up to an ingest batch's
#: events for one partition), or what has come within WITHIN_S seconds.
BATCH_MESSAGES = 16
WITHIN_S = 0.05
#: An outgoing batch message holds at most this many items and about this many bytes.
OUTBOX_ITEMS = 1000
OUTBOX_BYTES = 512 * 1024

Pending = list[Awaitable[Any]]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class TopicNames:
    events: str
    rejected: str
    flags: str
    person_events: str
    unit_updates: str
    day_summaries: str

    @classmethod
    def of(cls, settings: Settings) -> TopicNames:
        t = settings.topics
        return cls(t.events, t.rejected, t.flags, f"{settings.app_id}.person-events",
                   f"{settings.app_id}.unit-updates", f"{settings.app_id}.day-summaries")


class Outbox:
    """Items (JSON texts) collected per destination partition, handed out as batch messages
    `{"<field>": [item, ...]}` of bounded size, items in the order they were added."""

    def __init__(self, field_name: str, partitions: int) -> None:
        self.field_name, self.partitions = field_name, partitions
        self._items: dict[int, list[str]] = {}
        self._partition_of: dict[str, int] = {}

    def add(self, key: str, item: str) -> None:
        p = self._partition_of.get(key)
        if p is None:
            p = self._partition_of[key] = partition_of(key, self.partitions)
        self._items.setdefault(p, []).append(item)

    def __len__(self) -> int:
        return sum(len(items) for items in self._items.values())

    def messages(self) -> Iterator[tuple[int, bytes]]:
        head = '{"' + self.field_name + '":['
        for p in sorted(self._items):
            chunk: list[str] = []
            size = 0
            for item in self._items[p]:
                if chunk and (len(chunk) >= OUTBOX_ITEMS or size + len(item) > OUTBOX_BYTES):
                    yield p, (head + ",".join(chunk) + "]}").encode()
                    chunk, size = [], 0
                chunk.append(item)
                size += len(item) + 1
            if chunk:
                yield p, (head + ",".join(chunk) + "]}").encode()


def dead_letter(rejection: Rejection, original: bytes | None) -> bytes:
    text = b64 = None
    if original is not None:
        try:
            text = original.decode("utf-8")
        except UnicodeDecodeError:
            b64 = base64.b64encode(original).decode("ascii")
    return DeadLetter(reason=rejection.reason.value, message=rejection.message,
                      source_offset=rejection.source_offset, event_id=rejection.event_id,
                      original_text=text, original_base64=b64).model_dump_json().encode()


@dataclass
class Pipeline:
    """The worker's topics, tables and caches, and the sends every agent uses."""

    app: faust.App
    settings: Settings
    metrics: Metrics
    names: TopicNames
    topics: dict[str, faust.TopicT] = field(default_factory=dict)
    # Unit and organisation states changed since Prometheus last asked (figures are computed then).
    units_to_publish: dict[str, UnitState] = field(default_factory=dict)
    org_to_publish: dict[str, OrgState] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n, names, app = self.partitions, self.names, self.app
        for name, partitions in ((names.events, n), (names.rejected, n), (names.flags, n),
                                 (names.person_events, n), (names.unit_updates, n), (names.day_summaries, 1)):
            self.topics[name] = app.topic(name, key_type=bytes, value_type=bytes, partitions=partitions,
                                          key_serializer="raw", value_serializer="raw")
        self.persons = self._table("persons", n)
        self.units = self._table("units", n)
        self.org = self._table("org", 1)
        self.flags = self._table("flags", n)
        self.person_cache: StateCache[PersonState] = StateCache(
            self.persons, lambda raw: PersonState.from_dict(loads_dict(raw)), lambda _: PersonState(),
            max_entries=self.settings.decoded_person_states)
        self.unit_cache: StateCache[UnitState] = StateCache(
            self.units, lambda raw: UnitState.from_dict(loads_dict(raw)), UnitState)
        self.org_cache: StateCache[OrgState] = StateCache(
            self.org, lambda raw: OrgState.from_dict(loads_dict(raw)), lambda _: OrgState())

    def _table(self, name: str, partitions: int) -> Any:
        # use_partitioner: the changelog partition follows the key, like the batches' partitions do,
        # so a batch can write states of several partitions at once.
        # key_type/value_type bytes make faust pick the raw codec for the changelog (it derives the
        # codec from the types, not from a schema), so recovery reads back exactly what was written.
        return self.app.Table(name, key_type=bytes, value_type=bytes, partitions=partitions,
                              use_partitioner=True)

    @property
    def config(self) -> MonitorConfig:
        return self.settings.monitor

    @property
    def partitions(self) -> int:
        return self.settings.topics.partitions

    def topic(self, name: str) -> faust.TopicT:
        return self.topics[name]

    async def send(self, topic: str, key: str | None, value: bytes, partition: int | None = None) -> Any:
        return await self.topics[topic].send(key=key.encode() if key is not None else None, value=value,
                                             partition=partition, force=True)

    async def send_outbox(self, topic: str, outbox: Outbox, pending: Pending) -> None:
        for partition, body in outbox.messages():
            pending.append(await self.send(topic, None, body, partition=partition))

    async def send_flags(self, flags: list[Flag], pending: Pending) -> None:
        for flag in flags:
            pending.append(await self.send(self.names.flags, flag.flag_id, flag.model_dump_json().encode()))
            withdrawn = flag.status is FlagStatus.WITHDRAWN
            counter = self.metrics.flags_withdrawn if withdrawn else self.metrics.flags_raised
            counter.labels(flag.rule.value, flag.unit_id).inc()

    async def reject(self, rejection: Rejection, original: bytes | None, pending: Pending) -> None:
        self.metrics.events_rejected.labels(rejection.reason.value).inc()
        pending.append(await self.send(self.names.rejected, None, dead_letter(rejection, original)))
        log.debug("rejected %s at %s: %s", rejection.reason.value, rejection.source_offset, rejection.message)

    async def read(self, model: type[M], event: Any, pending: Pending) -> M | None:
        """A message of one of the worker's own topics, or None when it cannot be read: then it goes to
        the dead-letter topic with its offset, and the agent goes on (a crash would loop on it)."""
        try:
            return model.model_validate_json(event.value)
        except ValidationError as exc:
            msg = event.message
            rejection = Rejection(reason=RejectReason.UNREADABLE_INTERNAL_MESSAGE,
                                  source_offset=f"{msg.topic}/{msg.partition}/{msg.offset}",
                                  message=f"not a {model.__name__}: {exc.error_count()} error(s), first at "
                                          f"{'.'.join(str(x) for x in exc.errors()[0]['loc']) or 'top level'}")
            raw = event.value if isinstance(event.value, bytes) else None
            await self.reject(rejection, raw, pending)
            log.warning("%s at %s", rejection.message, rejection.source_offset)
            return None


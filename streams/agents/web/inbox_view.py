"""Each worker's own copy of the inbox's read model, read from Kafka: every partition of the flags,
flag-actions, consent and identities topics (and the audit topic, for admins), from the beginning.

So a request reaches the data on whichever worker it lands (two workers answer alike), and after any
restart the handling state is rebuilt from Kafka alone. A write (an action, an audit entry) goes to
Kafka first; the API then waits until this view has read it back (`wait_for`), so what a user did is
what the next page shows.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from streams.agents.runtime.context import TopicNames
from streams.core.handling.board import FlagBoard
from streams.core.handling.consent import ConsentChange
from streams.kafka_access import KafkaAccess
from streams.models.flags import Flag
from streams.models.handling import AuditEntry, ConsentRecord, FlagAction

log = logging.getLogger(__name__)

POLL_MS = 100


class InboxView:
    def __init__(self, bootstrap: str, access: KafkaAccess, names: TopicNames, partitions: int, board: FlagBoard,
                 on_new_flag: Callable[[Flag], None] | None = None, since: dt.datetime | None = None) -> None:
        self.bootstrap, self.access, self.names, self.board = bootstrap, access, names, board
        self.partitions = partitions  # of each of the topics read (the worker creates them so)
        self.sealed: dict[str, bytes] = {}  # pseudonym -> sealed source key (core/identity_vault.py)
        self.audit: list[AuditEntry] = []
        self.read_to: dict[tuple[str, int], int] = {}  # next offset to read, per topic partition
        self.ready = asyncio.Event()  # everything that was in the topics at start has been read
        self.unreadable = 0
        self._on_new_flag = on_new_flag
        self._since = since  # flags first seen before this are history: not handed to on_new_flag
        self._advanced = asyncio.Condition()
        self._consumer: AIOKafkaConsumer | None = None

    @property
    def topics(self) -> list[str]:
        n = self.names
        return [n.flags, n.flag_actions, n.consent, n.identities, n.audit]

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
                                    auto_offset_reset="earliest", fetch_max_wait_ms=POLL_MS,
                                    client_id="outcome-monitor-inbox", **self.access.aiokafka())
        await consumer.start()
        self._consumer = consumer
        try:
            parts = [TopicPartition(topic, p) for topic in self.topics for p in range(self.partitions)]
            consumer.assign(parts)
            await consumer.seek_to_beginning(*parts)
            ends = await consumer.end_offsets(parts)
            starts = await consumer.beginning_offsets(parts)
            for tp in parts:
                self.read_to[(tp.topic, tp.partition)] = int(starts[tp])
            pending = {(tp.topic, tp.partition): int(end) for tp, end in ends.items()}
            while True:
                batches = await consumer.getmany(timeout_ms=POLL_MS, max_records=5000)
                for tp, records in batches.items():
                    for rec in records:
                        self._apply(tp.topic, rec.key, rec.value, rec.timestamp)
                        self.read_to[(tp.topic, tp.partition)] = rec.offset + 1
                if not self.ready.is_set():
                    if all(self.read_to.get(k, 0) >= end for k, end in pending.items()):
                        self.ready.set()
                        log.info("inbox: read %s flags, %s audit entries; serving", len(self.board.entries),
                                 len(self.audit))
                    else:  # a partition read to its end shows its position only after a fetch
                        for tp in parts:
                            self.read_to[(tp.topic, tp.partition)] = max(
                                self.read_to[(tp.topic, tp.partition)], await consumer.position(tp))
                async with self._advanced:
                    self._advanced.notify_all()
        finally:
            await consumer.stop()

    def _apply(self, topic: str, key: bytes | None, value: bytes | None, timestamp_ms: int) -> None:
        if value is None:
            return
        n, board = self.names, self.board
        try:
            if topic == n.flags:
                flag = Flag.model_validate_json(value)
                seen = dt.datetime.fromtimestamp(timestamp_ms / 1000, dt.UTC)
                new = board.on_flag(flag, seen)
                if new and self._on_new_flag is not None and (self._since is None or seen >= self._since):
                    self._on_new_flag(flag)
            elif topic == n.flag_actions:
                refusal = board.on_action(FlagAction.model_validate_json(value))
                if refusal is not None:
                    log.info("inbox: an action was refused when applied: %s", refusal.reason)
            elif topic == n.consent:
                c = ConsentRecord.model_validate_json(value)
                board.on_consent(ConsentChange(c.subject_id, c.program, c.joined, c.t, c.event_id))
            elif topic == n.identities and key is not None:
                self.sealed[key.decode()] = value
            elif topic == n.audit:
                self.audit.append(AuditEntry.model_validate_json(value))
        except (ValidationError, ValueError, UnicodeDecodeError):
            self.unreadable += 1
            log.warning("inbox: an unreadable record on %s was skipped", topic)

    async def wait_for(self, topic: str, partition: int, offset: int, timeout: float = 30.0) -> bool:
        """Until this view has read `offset` of `topic`/`partition` (True), or `timeout` passed (False)."""
        async def read() -> None:
            async with self._advanced:
                await self._advanced.wait_for(lambda: self.read_to.get((topic, partition), 0) > offset)
        try:
            await asyncio.wait_for(read(), timeout)
            return True
        except TimeoutError:
            return False

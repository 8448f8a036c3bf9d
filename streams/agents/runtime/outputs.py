"""What one batch of an agent sends and counts: batch messages per topic and partition (`Outbox`), flags,
dead letters, and the metric updates applied once the batch is through (`MetricCounts`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from streams.agents.runtime.partitioning import partition_of
from streams.models.flags import Flag
from streams.models.rejections import Rejection
from streams.observe.metrics import Metrics

OUTBOX_ITEMS = 1000
OUTBOX_BYTES = 512 * 1024


class Outbox:
    """Items (JSON, encoded) collected per destination partition, handed out as batch messages
    `{"<field>": [item, ...]}` of bounded size, items in the order they were added."""

    def __init__(self, field_name: str, partitions: int) -> None:
        self.field_name, self.partitions = field_name, partitions
        self._items: dict[int, list[bytes]] = {}
        self._partition_of: dict[str, int] = {}

    def add(self, key: str, item: bytes) -> None:
        p = self._partition_of.get(key)
        if p is None:
            p = self._partition_of[key] = partition_of(key, self.partitions)
        self._items.setdefault(p, []).append(item)

    def __len__(self) -> int:
        return sum(len(items) for items in self._items.values())

    def messages(self) -> Iterator[tuple[int, bytes]]:
        head = b'{"' + self.field_name.encode() + b'":['
        for p in sorted(self._items):
            chunk: list[bytes] = []
            size = 0
            for item in self._items[p]:
                if chunk and (len(chunk) >= OUTBOX_ITEMS or size + len(item) > OUTBOX_BYTES):
                    yield p, head + b",".join(chunk) + b"]}"
                    chunk, size = [], 0
                chunk.append(item)
                size += len(item) + 1
            if chunk:
                yield p, head + b",".join(chunk) + b"]}"



@dataclass
class Outputs:
    """What one batch sends (batch messages per topic and partition, flags, dead letters) and what it
    counts once it is through (so a batch that is split after a defect counts nothing twice)."""

    outboxes: dict[tuple[str, str], Outbox] = field(default_factory=dict)  # by (topic, field)
    flags: list[Flag] = field(default_factory=list)
    rejections: list[tuple[Rejection, bytes | None]] = field(default_factory=list)
    counts: list[Callable[[], None]] = field(default_factory=list)
    keyed: list[tuple[str, str, bytes]] = field(default_factory=list)  # (topic, key, value): one record each

    def outbox(self, topic: str, field_name: str, partitions: int) -> Outbox:
        box = self.outboxes.get((topic, field_name))
        if box is None:
            box = self.outboxes[(topic, field_name)] = Outbox(field_name, partitions)
        return box

    def count(self) -> None:
        for c in self.counts:
            c()

    def handed_over(self) -> None:
        """Everything to send is with the producers now: forget it, keep the counts. A batch waits for
        its positions to be written (a write interval, `stage_agent.py`) before it counts, and what it sent
        would otherwise wait in memory with it."""
        self.outboxes, self.flags, self.rejections, self.keyed = {}, [], [], []


class MetricCounts:
    """The worker's `Counts` (core/stages/admit.py): Prometheus metrics, applied once the batch is through.
    Rejections are counted where they are written, on the way to the dead-letter topic."""

    LATE_S = 86400  # an event that arrives more than a day after it occurred counts as late

    def __init__(self, metrics: Metrics, out: Outputs) -> None:
        self.metrics, self.out = metrics, out
        # event type -> (when each accepted event occurred, how many of them came late): counted at once,
        # one label lookup per type and batch (a lookup per event was ~4% of a busy worker's time)
        self._accepted: dict[str, tuple[list[int], list[int]]] | None = None

    def accepted(self, event_type: str, occurred: int, arrival: int) -> None:
        tally = self._accepted
        if tally is None:
            tally = self._accepted = {}
            # Only locals in the closure: one that held `self` would tie the batch's outputs into a reference
            # cycle (outputs -> counts -> closure -> self -> outputs) that only the cyclic GC frees.
            metrics = self.metrics

            def count() -> None:
                now = time.time()
                for kind, (occurred_at, late) in tally.items():
                    metrics.events_consumed.labels(kind).inc(len(occurred_at))
                    age = metrics.event_age.labels(kind)
                    for t in occurred_at:
                        age.observe(max(0.0, now - t))
                    if late[0]:
                        metrics.events_late.labels(kind).inc(late[0])

            self.out.counts.append(count)
        entry = tally.get(event_type)
        if entry is None:
            entry = tally[event_type] = ([], [0])
        entry[0].append(occurred)
        if arrival - occurred > self.LATE_S:
            entry[1][0] += 1

    def rejected(self, reason: str) -> None:
        pass

    def duplicate(self) -> None:
        self.out.counts.append(self.metrics.events_duplicate.inc)

    def resent(self) -> None:
        self.out.counts.append(self.metrics.unit_updates_duplicate.inc)

    def retraction(self, outcome: str) -> None:
        self.out.counts.append(self.metrics.retractions.labels(outcome).inc)

"""Where each agent stands on each of its input partitions: the next offset it must process.

This is the worker's truth about progress, not faust's committed offsets: a position is written to a
table only after the states changed by the records before it are written and their changelog records
acknowledged, so after any crash or rebalance a restored position never claims more than the restored
states hold. A record below the position was processed already (a re-delivery: skipped); a record above
it means the records in between were not (fetched with the broker reader and processed first).

The position of input partition p lives in partition p of the table (the one faust assigns to the
worker that owns input partition p), under a key chosen to hash there.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from streams.agents.runtime.partitioning import partition_of


@lru_cache(maxsize=4096)
def position_key(topic: str, partition: int, partitions: int) -> bytes:
    """A table key for (topic, partition) that Kafka's default partitioner sends to `partition`."""
    for salt in range(1_000_000):
        key = f"@position/{topic}/{partition}/{salt}"
        if partition_of(key, partitions) == partition:
            return key.encode()
    raise RuntimeError(f"no position key hashes to partition {partition} of {partitions}")  # pragma: no cover


def is_position_key(key: bytes) -> bool:
    return key.startswith(b"@position/")


class Positions:
    """Positions of one input topic, kept in `table` (which has `partitions` partitions)."""

    def __init__(self, table: Any, topic: str, partitions: int) -> None:
        self.table, self.topic, self.partitions = table, topic, partitions

    def get(self, partition: int) -> int | None:
        raw = self.table.get(position_key(self.topic, partition, self.partitions))
        return int(raw) if raw is not None else None

    def set(self, partition: int, offset: int) -> None:
        self.table[position_key(self.topic, partition, self.partitions)] = str(offset).encode()

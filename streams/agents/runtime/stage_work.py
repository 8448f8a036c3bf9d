"""What a stage does for its agent (`Work`, over `Item`s) and what the agent tells of its progress
(`AgentStats`, per partition `PartitionProgress`, read by /health and the progress page); the awaiting of
the outputs' acknowledgements. The agent that runs a stage: `stage_agent.py`."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from streams.agents.runtime.records import InputRecord
from streams.models.rejections import Rejection

B = TypeVar("B")
I = TypeVar("I")  # noqa: E741 - the item type


@dataclass
class Item(Generic[I]):
    """One unit of work inside a record (an event; one entry of an internal batch message)."""

    record: InputRecord
    value: I
    event_id: str | None = None
    raw: bytes | None = None  # what goes to the dead-letter topic if applying it fails
    index: int | None = None  # its place in a record that holds several (the key of its dead letter)


class Work(Protocol[B, I]):
    """What one stage does. `apply` and `close` are pure in effect (they change `batch` only)."""

    def begin(self) -> B: ...

    def items(self, record: InputRecord) -> list[Item[I]] | Rejection: ...

    def apply(self, batch: B, item: Item[I]) -> None: ...

    def close(self, batch: B) -> None: ...

    async def send(self, batch: B) -> list[Any]: ...

    def write(self, batch: B) -> None: ...

    def done(self, batch: B) -> None: ...


@dataclass
class PartitionProgress:
    """What the agent knows of one input partition (for lag and the progress page)."""

    position: int | None = None
    processed: int = 0
    failures: int = 0  # attempts at its records that failed in a row, its position unmoved since
    failure: str | None = None  # the last one's exception type
    failed_at: int | None = None  # the position they failed at


@dataclass
class AgentStats:
    processed: int = 0
    redelivered_skipped: int = 0
    fetched_from_broker: int = 0
    failed_items: int = 0
    failed_attempts: int = 0  # batches (or catch-up reads) that raised: faust restarts the agent
    delivered_before_ready: int = 0  # batches faust delivered while tables recovered (read again later)
    partitions: dict[int, PartitionProgress] = field(default_factory=dict)


async def acknowledged(acks: Sequence[Any]) -> None:
    """Every acknowledgement awaited, then the first failure raised (none left unretrieved)."""
    if acks:
        for outcome in await asyncio.gather(*acks, return_exceptions=True):
            if isinstance(outcome, BaseException):
                raise outcome

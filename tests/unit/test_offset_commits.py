"""The worker's consumer keeps committing after a restart, and never counts unprocessed offsets as done.

The situation is the one a restart with a backlog creates: the consumer seeks back to the committed
offset, a record fetched before the seek arrives after it, and the offsets in between are delivered and
acknowledged once more (see streams/agents/offsets.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from faust.transport.drivers import aiokafka as aiokafka_driver
from faust.types import TP

from streams.agents import offsets
from streams.agents.app import MonitorApp
from streams.agents.offsets import CommitSafeConsumer

EVENTS = TP("care.events", 0)
FLAGS = TP("outcome.flags", 0)


@pytest.fixture
def consumer() -> Iterator[CommitSafeConsumer]:
    app = MonitorApp("offset-commits", broker="kafka://127.0.0.1:1", web_enabled=False)
    app.compacted_topics = frozenset({FLAGS.topic})
    consumer = app.consumer  # built, never started: no broker is contacted
    assert isinstance(consumer, CommitSafeConsumer)
    yield consumer


def test_offsets_acknowledged_twice_after_a_seek_are_committed_in_one_step(consumer: CommitSafeConsumer) -> None:
    consumer._committed_offset[EVENTS] = 100
    # every offset from 101 on acknowledged twice: once as a stale record, once after the seek
    consumer._acked[EVENTS] = [100] + [o for o in range(101, 600) for _ in (0, 1)]
    assert consumer._new_offset(EVENTS) == 600


def test_a_jump_in_a_normal_topic_does_not_count_the_skipped_offsets_as_processed(
        consumer: CommitSafeConsumer) -> None:
    consumer._committed_offset[EVENTS] = 100
    asyncio.run(consumer._add_gap(EVENTS, 101, 500))  # a record at 501 arrived right after the seek to 100
    consumer._acked[EVENTS] = [100, 501]
    # 101..500 are still to come: only offset 100 is done, so the commit may not pass 101
    assert consumer._new_offset(EVENTS) == 101
    consumer._committed_offset[EVENTS] = 101
    assert consumer._new_offset(EVENTS) is None


def test_holes_left_by_compaction_are_still_stepped_over(consumer: CommitSafeConsumer) -> None:
    consumer._committed_offset[FLAGS] = 10
    asyncio.run(consumer._add_gap(FLAGS, 11, 19))  # compaction removed 11..19
    consumer._acked[FLAGS] = [10, 20, 21]
    assert consumer._new_offset(FLAGS) == 22


class Record:
    def __init__(self, offset: int) -> None:
        self.offset = offset


def delivered(consumer: CommitSafeConsumer, monkeypatch: pytest.MonkeyPatch, offsets: list[int]) -> list[int]:
    async def fetched(self: object, timeout: float) -> AsyncIterator[tuple[TP, Record]]:
        for offset in offsets:
            yield EVENTS, Record(offset)

    monkeypatch.setattr(aiokafka_driver.Consumer, "getmany", fetched)

    async def drain() -> list[int]:
        return [m.offset async for _, m in consumer.getmany(1.0)]

    return asyncio.run(drain())


def test_after_a_seek_records_fetched_before_it_are_skipped_until_the_sought_offset_comes(
        consumer: CommitSafeConsumer, monkeypatch: pytest.MonkeyPatch) -> None:
    consumer._expect(EVENTS, 100)  # what a seek to the committed offset 100 does
    # a fetch from before the seek delivers 500, 501; then the fetch from 100 comes
    assert delivered(consumer, monkeypatch, [500, 501, 100, 101, 102]) == [100, 101, 102]
    # once the sought offset has come, nothing more is held back
    assert delivered(consumer, monkeypatch, [103, 900]) == [103, 900]


def test_offsets_removed_by_retention_before_processing_are_given_up_after_a_while(
        consumer: CommitSafeConsumer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(offsets, "STALE_FOR_S", -1.0)  # the expected record is overdue at once
    consumer._expect(EVENTS, 100)
    assert delivered(consumer, monkeypatch, [700, 701]) == [700, 701]
    consumer._committed_offset[EVENTS] = 100
    asyncio.run(consumer._add_gap(EVENTS, 101, 700))  # what faust's drain loop does next
    consumer._acked[EVENTS] = [700, 701]
    assert consumer._new_offset(EVENTS) == 702  # commits move on instead of waiting forever


@pytest.fixture
def sought(consumer: CommitSafeConsumer, monkeypatch: pytest.MonkeyPatch) -> list[tuple[TP, int]]:
    """The seeks the consumer makes (recorded, not sent); the broker holds records up to offset 300 of
    every partition, and the events and flags partitions are assigned."""
    calls: list[tuple[TP, int]] = []

    async def seek(tp: TP, offset: int) -> None:
        calls.append((tp, offset))

    monkeypatch.setattr(consumer, "seek", seek)
    monkeypatch.setattr(consumer, "highwater", lambda tp: 300)
    monkeypatch.setattr(consumer, "assignment", lambda: {EVENTS, FLAGS})
    return calls


def test_records_lost_before_processing_are_read_again_from_the_committed_offset(
        consumer: CommitSafeConsumer, sought: list[tuple[TP, int]]) -> None:
    consumer._committed_offset[EVENTS] = 100
    consumer._acked[EVENTS] = list(range(115, 200))  # 100..114 never came to an agent
    consumer._committed_offset[FLAGS] = 10  # compacted: holes there are normal
    asyncio.run(consumer.reread_lost_deliveries())
    assert sought == []  # seen once: may still be on its way
    asyncio.run(consumer.reread_lost_deliveries())
    assert sought == [(EVENTS, 100)]


def test_a_partition_whose_records_vanished_without_any_being_processed_is_read_again(
        consumer: CommitSafeConsumer, sought: list[tuple[TP, int]]) -> None:
    consumer._committed_offset[EVENTS] = 6  # records 6..299 wait; nothing was acknowledged
    for _ in range(2):
        asyncio.run(consumer.reread_lost_deliveries())
    assert sought == [(EVENTS, 6)]


def test_a_partition_whose_commits_move_is_left_alone(
        consumer: CommitSafeConsumer, sought: list[tuple[TP, int]]) -> None:
    for committed in (100, 150, 220, 300):  # a backlog being worked through, then caught up
        consumer._committed_offset[EVENTS] = committed
        asyncio.run(consumer.reread_lost_deliveries())
    asyncio.run(consumer.reread_lost_deliveries())
    assert sought == []


def test_a_partition_that_stays_put_after_reading_again_is_not_read_again_forever(
        consumer: CommitSafeConsumer, sought: list[tuple[TP, int]]) -> None:
    consumer._committed_offset[EVENTS] = 299  # e.g. a transaction marker at 299: nothing more comes
    for _ in range(20):
        asyncio.run(consumer.reread_lost_deliveries())
    assert sought == [(EVENTS, 299)] * offsets.MAX_REREADS

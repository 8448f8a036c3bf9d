"""The fifth change to faust-streaming (streams/agents/faust_fixes.py, 5.): no record faust fetched and did not
hand on is lost. A worker whose partitions came back right after a second worker joined and left within a
second stayed in table recovery for ever: aiokafka, waiting on faust's live set of active partitions while a
rebalance emptied it, returned a changelog's records as if every partition were wanted, and faust dropped
them (the partition not yet resumed), aiokafka's position already past them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka.structs import TopicPartition
from faust.transport.drivers import aiokafka as aiokafka_driver

from streams.agents.faust_fixes import MonitorApp, PromptConsumerThread

CHANGELOG = TopicPartition("w-org-changelog", 1)
STREAM = TopicPartition("w.person-events", 1)


class Record:
    def __init__(self, tp: TopicPartition, offset: int) -> None:
        self.topic, self.partition, self.offset = tp.topic, tp.partition, offset
        self.key, self.value, self.timestamp, self.timestamp_type = b"k", b"v", 0, 0
        self.headers: list[Any] = []
        self.checksum, self.serialized_key_size, self.serialized_value_size = None, 1, 1


def _fetch(records: dict[TopicPartition, list[Record]], active: set[Any] | None, *, flow: bool = True,
           activate_after: int | None = None) -> tuple[list[tuple[Any, int]], dict[Any, tuple[int, int]]]:
    """faust's getmany over `records` as the fetch returned them; what it handed on, and what it asked to be
    fetched again. `activate_after`: the changelog partition is resumed after that many records handed on."""
    handed: list[tuple[Any, int]] = []
    again: dict[Any, tuple[int, int]] = {}

    async def run() -> None:
        app = MonitorApp("fix-test", broker="kafka://127.0.0.1:1", web_enabled=False)
        consumer = app.consumer

        async def wait_next_records(timeout: float) -> Any:
            return records, active

        async def fetch_again(undelivered: dict[Any, tuple[int, int]]) -> None:
            again.update(undelivered)

        consumer._wait_next_records = wait_next_records
        consumer.highwater = lambda tp: 10  # the broker's end, asked of a started consumer
        consumer._thread.fetch_again = fetch_again
        consumer.flow_active = flow
        async for tp, message in consumer.getmany(timeout=1.0):
            handed.append((tp, message.offset))
            if activate_after is not None and len(handed) == activate_after and active is not None:
                active.add(CHANGELOG)

    asyncio.run(run())
    return handed, again


def test_records_of_a_partition_not_active_when_faust_looks_are_fetched_again() -> None:
    records = {CHANGELOG: [Record(CHANGELOG, 0), Record(CHANGELOG, 1)], STREAM: [Record(STREAM, 7)]}
    handed, again = _fetch(records, {STREAM})
    assert handed == [(STREAM, 7)]
    assert again == {CHANGELOG: (0, 2)}  # from offset 0, where the fetch left the position at 2


def test_a_partition_resumed_halfway_gets_its_records_again_in_order_not_with_a_gap() -> None:
    records = {STREAM: [Record(STREAM, 7), Record(STREAM, 8)],
               CHANGELOG: [Record(CHANGELOG, 0), Record(CHANGELOG, 1), Record(CHANGELOG, 2)]}
    handed, again = _fetch(records, {STREAM}, activate_after=2)  # resumed after the stream's second record
    # round robin: stream 7, changelog 0 (not active: left), stream 8, then the changelog resumed
    assert handed == [(STREAM, 7), (STREAM, 8)]
    assert again == {CHANGELOG: (0, 3)}


def test_records_fetched_while_the_flow_stopped_are_fetched_again() -> None:
    handed, again = _fetch({CHANGELOG: [Record(CHANGELOG, 4)]}, {CHANGELOG}, flow=False)
    assert handed == [] and again == {CHANGELOG: (4, 5)}


def test_records_handed_on_are_not_fetched_again() -> None:
    handed, again = _fetch({CHANGELOG: [Record(CHANGELOG, 0), Record(CHANGELOG, 1)]}, {CHANGELOG})
    assert handed == [(CHANGELOG, 0), (CHANGELOG, 1)] and again == {}


def test_a_compacted_changelog_s_gaps_are_no_record_left_out() -> None:
    compacted = [Record(CHANGELOG, 0), Record(CHANGELOG, 2), Record(CHANGELOG, 5)]
    handed, again = _fetch({CHANGELOG: compacted}, {CHANGELOG})
    assert handed == [(CHANGELOG, 0), (CHANGELOG, 2), (CHANGELOG, 5)] and again == {}
    handed, again = _fetch({CHANGELOG: compacted}, {CHANGELOG}, flow=False)
    assert handed == [] and again == {CHANGELOG: (0, 6)}


class FakeAiokafka:
    """What `_fetch_again` uses of aiokafka's consumer: the assignment, a position, a seek."""

    def __init__(self, assigned: set[TopicPartition], positions: dict[TopicPartition, int]) -> None:
        self.assigned, self.positions = assigned, positions
        self.sought: list[tuple[TopicPartition, int]] = []

    def assignment(self) -> set[TopicPartition]:
        return self.assigned

    async def position(self, tp: TopicPartition) -> int:
        return self.positions[tp]

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.sought.append((tp, offset))


def test_a_partition_is_sought_back_only_where_the_fetch_left_it_and_while_it_is_assigned() -> None:
    elsewhere = TopicPartition("w-flags-changelog", 1)
    gone = TopicPartition("w-flags-changelog", 2)
    past_a_gap = TopicPartition("w-units-changelog", 0)
    fake = FakeAiokafka({CHANGELOG, elsewhere, past_a_gap}, {CHANGELOG: 2, elsewhere: 0, past_a_gap: 9})

    async def run() -> None:
        thread = PromptConsumerThread.__new__(PromptConsumerThread)
        thread._consumer = fake  # what _ensure_consumer returns
        # the partition sought elsewhere since (a recovery's seek to 0) and the one no longer assigned stay;
        # one whose fetch ended in a compacted gap (its position past its last record) is sought back
        await thread._fetch_again({CHANGELOG: (0, 2), elsewhere: (3, 5), gone: (0, 1), past_a_gap: (4, 7)})

    asyncio.run(run())
    assert fake.sought == [(CHANGELOG, 0), (past_a_gap, 4)]


def test_aiokafka_is_given_the_active_partitions_as_they_were_and_nothing_for_none(
        monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []

    async def faust_getmany(self: Any, active_partitions: Any, timeout: float) -> Any:
        seen.append(active_partitions)
        return {}

    monkeypatch.setattr(aiokafka_driver.AIOKafkaConsumerThread, "getmany", faust_getmany)
    live = {STREAM}

    async def run() -> None:
        thread = PromptConsumerThread.__new__(PromptConsumerThread)
        assert await thread.getmany(set(), 1.0) == {}
        await thread.getmany(live, 1.0)

    asyncio.run(run())
    live.clear()  # a rebalance empties faust's set while aiokafka waits on it
    assert seen == [{STREAM}]

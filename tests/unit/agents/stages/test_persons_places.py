"""The persons stage writes a person's state when an event that was not taken (a duplicate, or one too
late) still marked its place in its source as taken: after a restart, the stage reads such a record
again as a redelivery, and does not judge it, or send it to the dead-letter topic, a second time."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import msgspec
from prometheus_client import CollectorRegistry

from streams.agents.runtime.codec import loads_dict
from streams.agents.runtime.messages import PersonEnvelope
from streams.agents.runtime.records import InputRecord
from streams.agents.runtime.stage_work import Item
from streams.agents.runtime.state_cache import StateCache
from streams.agents.stages.persons import Persons
from streams.core.config import MonitorConfig
from streams.core.person.tracker import PersonState
from streams.models import RejectReason
from streams.observe.metrics import Metrics
from tests.helpers import day_epoch, sick

SOURCE = "care.events/0"


def stage_over(table: dict[bytes, bytes]) -> Persons:
    """The persons stage of a worker that starts over `table` (the persons table as recovered)."""
    cache: StateCache[PersonState] = StateCache(table, lambda raw: PersonState.from_dict(loads_dict(raw)),
                                                lambda _: PersonState())
    p: Any = SimpleNamespace(config=MonitorConfig(), metrics=Metrics(CollectorRegistry()), person_cache=cache,
                             programme_stage=SimpleNamespace(enabled=False),
                             names=SimpleNamespace(unit_updates="unit-updates", programme_events="programme-events",
                                                   consent="consent"))
    return Persons(p)


def one_batch(stage: Persons, line: str, offset: int) -> list[RejectReason]:
    """One record through the stage, its state written; the reasons of what it rejected."""
    env = PersonEnvelope(pseudonym="p_1", arrival=day_epoch(40), source_offset=f"{SOURCE}/{offset}",
                         event=msgspec.Raw(line.encode()), ingested_at=0.0)
    record = InputRecord("person-events", 0, offset, 0, (), b"")
    batch = stage.begin()
    stage.apply(batch, Item(record, env, raw=env.event_json()))
    stage.close(batch)
    stage.write(batch)
    return [rejection.reason for rejection, _ in batch.out.rejections]


def test_an_event_too_late_is_dead_lettered_once_though_a_restart_reads_it_again() -> None:
    table: dict[bytes, bytes] = {}
    stage = stage_over(table)
    assert one_batch(stage, sick(40, event_id="now"), 0) == []
    too_late = sick(10, event_id="months-ago")
    assert one_batch(stage, too_late, 1) == [RejectReason.TOO_LATE]
    # A crash before the record's position was written: a new worker reads it again from the table.
    assert one_batch(stage_over(table), too_late, 1) == []


def test_a_duplicate_sent_again_by_its_source_marks_its_place_and_a_redelivery_changes_nothing() -> None:
    table: dict[bytes, bytes] = {}
    stage = stage_over(table)
    line = sick(40, event_id="once")
    assert one_batch(stage, line, 0) == []
    assert one_batch(stage, line, 7) == []  # the source sent it again: a duplicate at a new place
    assert PersonState.from_dict(loads_dict(table[b"p_1"])).taken == {SOURCE: 7}
    written = dict(table)
    assert one_batch(stage_over(table), line, 7) == []  # read again: its place is known
    assert table == written

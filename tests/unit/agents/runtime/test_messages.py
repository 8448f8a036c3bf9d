"""The worker's internal messages: what one stage writes through its outbox, the next reads back as the
core's own types; a message it cannot read is a rejection that names the place, never a value."""

from __future__ import annotations

import msgspec

from streams.agents.runtime.messages import (
    DaySummaryBatch,
    PersonEnvelope,
    PersonEventBatch,
    UnitUpdateBatch,
    UnitUpdateOnItsWay,
    encode,
    read_internal,
)
from streams.agents.runtime.outputs import Outbox
from streams.agents.runtime.records import InputRecord
from streams.core.stages import StaffingReport, UnitUpdate
from streams.core.unit.tracker import DaySummary
from streams.models.events import EVENT_ADAPTER
from streams.models.rejections import Rejection, RejectReason
from tests.helpers import sick


def _record(body: bytes) -> InputRecord:
    return InputRecord("om.internal", 0, 7, 0, (), body)


def _through(field: str, items: list[bytes]) -> bytes:
    box = Outbox(field, 1)
    for item in items:
        box.add("k", item)
    [(_, body)] = list(box.messages())
    return body


def test_person_events_and_staffing_arrive_as_they_were_sent() -> None:
    event = sick(3, person="p_abc").encode()
    env = PersonEnvelope("p_abc", 1_700_000_000, "care.events/2/41", msgspec.Raw(event), 1.5)
    staffing = UnitUpdateOnItsWay(UnitUpdate("u-1", staffing=StaffingReport(1, "s-1", 2, 30, 4)), "care.events/0/9")
    box = Outbox("events", 1)
    box.add("k", encode(env))
    [(_, events)] = list(box.messages())
    read = read_internal(PersonEventBatch, _record(events))
    assert isinstance(read, PersonEventBatch) and read.staffing == []
    [got] = read.events
    assert (got.pseudonym, got.arrival, got.source_offset, got.ingested_at) == ("p_abc", 1_700_000_000,
                                                                               "care.events/2/41", 1.5)
    assert EVENT_ADAPTER.validate_json(bytes(got.event)) == EVENT_ADAPTER.validate_json(event)
    both = b'{"events":[],"staffing":[' + encode(staffing) + b"]}"
    assert read_internal(PersonEventBatch, _record(both)) == PersonEventBatch([], [staffing])


def test_unit_updates_and_day_summaries_are_the_cores_own_types() -> None:
    update = UnitUpdate("u-1", "p_abc", 4, [("sick_days", 20000, 1.0)], [("p_abc", 20000)])
    read = read_internal(UnitUpdateBatch, _record(_through("updates", [encode(UnitUpdateOnItsWay(update, None))])))
    assert isinstance(read, UnitUpdateBatch) and read.updates[0].update == update
    summary = DaySummary("u-1", 20000, 1.5, 1.0, 30, ed_visits=2.0, care_change=-1.0)
    read_days = read_internal(DaySummaryBatch, _record(_through("summaries", [encode(summary)])))
    assert isinstance(read_days, DaySummaryBatch) and read_days.summaries == [summary]


def test_a_message_of_another_shape_is_rejected_naming_the_place_not_the_value() -> None:
    for body in (b'{"events": "19811218-9876"}', b"\x00garbage", b'{"updates": [{"update": {"seq": 1}}]}'):
        for kind in (PersonEventBatch, UnitUpdateBatch):
            rejected = read_internal(kind, _record(body))
            assert isinstance(rejected, Rejection), (kind, body)
            assert rejected.reason is RejectReason.UNREADABLE_INTERNAL_MESSAGE
            assert rejected.source_offset == "om.internal/0/7" and kind.__name__ in rejected.message
            assert "19811218" not in rejected.message

"""The worker's internal messages: what one stage writes through its outbox, the next reads back as the
core's own types; a message it cannot read is a rejection that names the place, never a value."""

from __future__ import annotations

import json

import msgspec

from streams.agents.runtime.messages import (
    DaySummaryBatch,
    PersonEnvelope,
    PersonEventBatch,
    UnitUpdateBatch,
    encode,
    read_internal,
)
from streams.agents.runtime.outputs import Outbox
from streams.agents.runtime.records import InputRecord
from streams.core.stages import StaffingReport, UnitUpdate
from streams.core.unit.summary import DaySummary
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
    staffing = UnitUpdate("u-1", staffing=StaffingReport(1, "s-1", 2, 30, 4), source_offset="care.events/0/9")
    box = Outbox("events", 1)
    box.add("k", encode(env))
    [(_, events)] = list(box.messages())
    read = read_internal(PersonEventBatch, _record(events))
    assert isinstance(read, PersonEventBatch) and read.staffing == []
    [got] = read.events
    assert (got.pseudonym, got.arrival, got.source_offset, got.ingested_at) == ("p_abc", 1_700_000_000,
                                                                               "care.events/2/41", 1.5)
    assert EVENT_ADAPTER.validate_json(got.event_json()) == EVENT_ADAPTER.validate_json(event)
    both = b'{"events":[],"staffing":[' + encode(staffing) + b"]}"
    assert read_internal(PersonEventBatch, _record(both)) == PersonEventBatch([], [staffing])


def test_unit_updates_and_day_summaries_are_the_cores_own_types() -> None:
    update = UnitUpdate("u-1", "p_abc", 4, [("sick_days", 20000, 1.0)], [("p_abc", 20000)])
    read = read_internal(UnitUpdateBatch, _record(_through("updates", [encode(update)])))
    assert isinstance(read, UnitUpdateBatch) and read.updates == [update]
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


def test_what_the_previous_release_wrote_on_the_internal_topics_is_read_the_same() -> None:
    # An upgrade in place can stop a worker with messages not yet read on its internal topics; the
    # previous release wrote them with pydantic: the event as an escaped string, defaults left out.
    event = sick(3, person="p_abc")
    old_events = ('{"events":[{"pseudonym":"p_abc","arrival":1700000000,"source_offset":"care.events/2/41",'
                  '"event":' + json.dumps(event) + ',"ingested_at":1.5}],"staffing":[{"unit_id":"u-1",'
                  '"source":null,"seq":0,"deltas":[],"presence":[],"staffing":[1,"s-1",2,30,4],'
                  '"source_offset":"care.events/0/9"}]}').encode()
    read = read_internal(PersonEventBatch, _record(old_events))
    assert isinstance(read, PersonEventBatch)
    assert EVENT_ADAPTER.validate_json(read.events[0].event_json()) == EVENT_ADAPTER.validate_json(event)
    assert read.staffing == [UnitUpdate("u-1", staffing=StaffingReport(1, "s-1", 2, 30, 4),
                                        source_offset="care.events/0/9")]
    old_updates = (b'{"updates":[{"unit_id":"u-1","source":"p_abc","seq":4,"deltas":[["sick_days",20000,1.0]],'
                   b'"presence":[["p_abc",20000]],"staffing":null,"source_offset":null}]}')
    assert read_internal(UnitUpdateBatch, _record(old_updates)) == UnitUpdateBatch(
        [UnitUpdate("u-1", "p_abc", 4, [("sick_days", 20000, 1.0)], [("p_abc", 20000)])])
    old_days = b'{"summaries":[{"unit_id":"u-1","day":20000,"sick_days":1.5,"occasions":1.0,"headcount":30}]}'
    assert read_internal(DaySummaryBatch, _record(old_days)) == DaySummaryBatch(
        [DaySummary("u-1", 20000, 1.5, 1.0, 30)])


def test_a_day_summary_names_its_units_organisation_and_one_of_the_previous_release_reads_as_the_default() -> None:
    named = DaySummary("u-1", 20000, 1.5, 1.0, 30, organisation="212000-0142")
    read = read_internal(DaySummaryBatch, _record(_through("summaries", [encode(named)])))
    assert isinstance(read, DaySummaryBatch) and read.summaries == [named]
    previous = b'{"summaries":[{"unit_id":"u-1","day":20000,"sick_days":1.5,"occasions":1.0,"headcount":30}]}'
    read = read_internal(DaySummaryBatch, _record(previous))
    assert isinstance(read, DaySummaryBatch) and read.summaries[0].organisation is None
    update = UnitUpdate("u-1", "p_abc", 4, [("sick_days", 20000, 1.0)], organisation="212000-0142")
    assert read_internal(UnitUpdateBatch, _record(_through("updates", [encode(update)]))) == UnitUpdateBatch([update])


def test_a_person_event_with_fields_a_later_release_added_is_read_without_them() -> None:
    # Going back to this release after a later one must not dead-letter what the later one left on the topic.
    event = sick(3, person="p_abc")
    body = ('{"events":[{"pseudonym":"p_abc","arrival":1700000000,"source_offset":"care.events/2/41","event":'
            + event + ',"ingested_at":1.5,"fact":[1735974000,"e1","sick_leave","unit-a",739257],'
            '"added_later":{"any":["thing"]}}],"staffing":[]}').encode()
    read = read_internal(PersonEventBatch, _record(body))
    assert isinstance(read, PersonEventBatch)
    [got] = read.events
    assert got.pseudonym == "p_abc" and got.fact is not None and got.fact.unit_id == "unit-a"
    # a batch message of another shape is still refused (its fields are the contract of the batch)
    assert isinstance(read_internal(PersonEventBatch, _record(b'{"evnets":[]}')), Rejection)

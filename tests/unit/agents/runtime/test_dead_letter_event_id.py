"""A dead letter names the event it rejects: its `event_id` is the input's whenever the message parsed as a JSON
object with a string event_id (for `too_large`, when one is complete in its first `max_message_bytes`), so an
integration engineer need not parse `original_text` to match it. An event id that holds a personnummer is shown
redacted, as the original is; a character the contract keeps out of identifiers (a control character, a line
separator, a bidirectional override, the byte-order mark) is shown as U+FFFD; anything else exactly as sent."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as label
from hypothesis import strategies as st

from streams.agents.runtime.dead_letters import dead_letter
from streams.core.decode import decode_event
from streams.core.personnummer import contains_personal_identity_number, redact
from streams.models import Rejection, RejectReason
from streams.models.internal import DeadLetter
from tests.helpers import NOW, event, monitor
from tests.unit.core.test_personnummer import births, forms, number

MAX = 65536
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")


def decode(raw: bytes | str, max_bytes: int = MAX) -> object:
    return decode_event(raw, NOW, max_bytes=max_bytes, max_future=dt.timedelta(hours=24))


def letter(raw: bytes | str, max_bytes: int = MAX) -> DeadLetter:
    """The dead letter the worker sends for `raw` (decode's rejection, built as the worker builds it)."""
    rejection = decode(raw, max_bytes)
    assert isinstance(rejection, Rejection), rejection
    original = raw.encode() if isinstance(raw, str) else raw
    return DeadLetter.model_validate_json(dead_letter(rejection, original))


def good(**changes: object) -> str:
    body = json.loads(event("sick_leave", 0, event_id="e-42"))
    body.update(changes)
    return json.dumps({k: v for k, v in body.items() if v is not None})


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (json.dumps({"event_type": "teleport", "event_id": "e-42"}), RejectReason.UNKNOWN_EVENT_TYPE),
        (good(person_id=None), RejectReason.MISSING_FIELD),
        (good(extend=0.5), RejectReason.UNKNOWN_FIELD),
        (good(extent=0.3), RejectReason.INVALID_FIELD),
        (good(occurred_at="2025-02-30T08:00:00+01:00"), RejectReason.INVALID_TIMESTAMP),
        (good(occurred_at="0001-01-01T00:30:00+01:00"), RejectReason.INVALID_TIMESTAMP),
        (good(occurred_at="2031-01-01T00:00:00+00:00"), RejectReason.IN_THE_FUTURE),
        (good(unit_id="u" * 65), RejectReason.FIELD_TOO_LONG),
        (good(organisation="212000-0143"), RejectReason.INVALID_FIELD),
        (good(organisation="811218-9876"), RejectReason.RAW_PERSONAL_IDENTITY_NUMBER),
        (good(person_id="19811218-9876"), RejectReason.RAW_PERSONAL_IDENTITY_NUMBER),
        (good(program="x" * 70_000), RejectReason.TOO_LARGE),
    ],
)
def test_a_rejected_object_with_a_string_event_id_names_it(raw: str, reason: RejectReason) -> None:
    found = letter(raw)
    assert found.reason == reason.value
    assert found.event_id == "e-42"


@pytest.mark.parametrize("raw", [b"not json", b"\xff\xfe{", b"[1, 2]", b'"e-42"', b"null", b'{"event_id": "e',
                                 json.dumps({"event_id": 42, "event_type": "teleport"}).encode(),
                                 json.dumps({"event_id": None}).encode(),
                                 json.dumps({"event": {"event_id": "e-42"}}).encode()])
def test_without_a_top_level_string_event_id_there_is_none(raw: bytes) -> None:
    assert letter(raw).event_id is None


def test_an_event_id_that_holds_a_personnummer_is_shown_redacted_whatever_the_reason() -> None:
    for raw in (json.dumps({"event_type": "teleport", "event_id": "evt-19811218-9876"}),
                good(event_id="evt-19811218-9876", extent=0.3),
                good(event_id="evt-19811218-9876"),  # raw_personal_identity_number, for the event id itself
                good(event_id="evt 811218 9876/811218-9877", person_id="8112189876"),
                good(event_id="evt-19811218-9876", program="x" * 70_000)):
        found = letter(raw)
        assert found.event_id is not None and found.event_id.startswith("evt"), (raw[:80], found)
        assert "9876" not in found.event_id and "9877" not in found.event_id, found.event_id
        assert found.event_id == json.loads(raw)["event_id"].replace("19811218-9876", "[redacted: 13 chars]") \
            .replace("811218 9876", "[redacted: 11 chars]").replace("811218-9877", "[redacted: 11 chars]")


def test_an_event_id_with_a_date_like_run_but_no_personnummer_is_shown_as_sent() -> None:
    """Ids like `ord-20250301-0001` are common and the contract takes them (no check digit of a person)."""
    for event_id in ("ord-20250301-0001", "811218-9877", "batch 250301 0001"):
        assert not contains_personal_identity_number(event_id)
        assert letter(good(event_id=event_id, extent=0.3)).event_id == event_id


def test_characters_the_contract_keeps_out_of_identifiers_are_shown_as_replacement_characters() -> None:
    """Found by the hostile corpus: `line\u2028break` as an event id broke the rejects file (JSON lines) into two
    for any reader that splits lines as Python's `str.splitlines` does."""
    for bad in ("\u2028", "\u2029", "\x85", "\x00", "\n", "\x1b", "\u202e", "\u2066", "\ufeff", "\x9f"):
        event_id = f"line{bad}break-811218-9876"
        found = letter(good(event_id=event_id))
        assert found.reason == "invalid_field"
        assert found.event_id == "line\ufffdbreak-[redacted: 11 chars]"
        assert len(found.model_dump_json().splitlines()) == 1


def test_a_too_large_message_is_read_only_as_far_as_a_message_may_go() -> None:
    """Its event id comes from its first max_message_bytes bytes, parsed as the start of a document: found
    when complete in them, never from beyond them, never cut short by them."""
    body = {"event_id": "e-42", "event_type": "enrollment", "program": "é" * 200}
    raw = json.dumps(body, ensure_ascii=False).encode()
    assert letter(raw, max_bytes=100).event_id == "e-42"  # the limit cuts a two-byte character
    assert letter(raw, max_bytes=len('{"event_id": "e-42"')).event_id == "e-42"
    assert letter(raw, max_bytes=len('{"event_id": "e-4')).event_id is None
    later = json.dumps({"program": "x" * 200, "event_id": "e-42"}).encode()
    assert letter(later, max_bytes=100).event_id is None
    deep = b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b', "event_id": "e-42"}'
    assert letter(deep).event_id is None and letter(deep).reason == "too_large"


# Arbitrary JSON (valid for any parser: no lone surrogates, integers of 64 bits, NaN and infinities as
# Python's json writes them) with, as event_id, any text, a personnummer in any written form, or any value.
_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats() | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4), max_leaves=12)
_numbers = st.builds(lambda born, serial, form: number(born, serial, century=form[0], sep=form[1],
                                                       coordination=form[2]), births, st.integers(0, 999), forms)
_event_ids = (_text | st.builds(lambda a, n, b: f"{a}{n}{b}", _text, _numbers, _text)
              | st.builds(lambda n: f"evt-{n}", _numbers) | _json)
_contract = ["event_type", "occurred_at", "unit_id", "person_id", "extent", "headcount", "organisation"]
_objects = st.builds(
    lambda rest, fields, event_id, has_id: {**rest, **fields, **({"event_id": event_id} if has_id else {})},
    st.dictionaries(_text, _json, max_size=4),
    st.fixed_dictionaries({}, optional={
        "event_type": st.sampled_from(["sick_leave", "staffing", "emergency_visit", "teleport"]) | _json,
        "occurred_at": st.sampled_from(["2025-03-01T10:00:00+01:00", "2031-01-01T00:00:00Z", "2025-02-30"]) | _json,
        "unit_id": st.just("u1") | _json, "person_id": st.just("p1") | _numbers | _json,
        "extent": st.sampled_from([1.0, 0.3]), "headcount": st.just(3) | _json,
        "organisation": st.sampled_from(["212000-0142", "8112189876"]) | _json}),
    _event_ids, st.sampled_from([True, True, True, False]))
BUDGET = settings(max_examples=500, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(doc: dict[str, object], found: DeadLetter | None) -> None:
    if found is None:  # accepted: no dead letter
        label("accepted")
        return
    sent = doc.get("event_id")
    if not isinstance(sent, str):
        label("no string event_id")
        assert found.event_id is None
        return
    label(f"{'a personnummer in' if contains_personal_identity_number(sent) else 'no personnummer in'} the event_id")
    assert found.event_id is not None
    assert not contains_personal_identity_number(found.event_id), (sent, found.event_id)
    printable = _UNPRINTABLE.sub("\ufffd", sent)
    assert found.event_id == (redact(printable) if contains_personal_identity_number(sent) else printable)


@BUDGET
@given(_objects)
def test_any_json_object_s_dead_letter_names_its_string_event_id_and_never_a_personnummer(
        doc: dict[str, object]) -> None:
    raw = json.dumps(doc).encode()
    result = monitor().process(raw, NOW, arrival=int(NOW.timestamp()))
    assert result.rejection is not None or doc.get("event_type") in ("sick_leave", "staffing", "emergency_visit")
    found = None
    if result.rejection is not None:
        found = DeadLetter.model_validate_json(dead_letter(result.rejection, raw))
        assert found.reason not in ("not_json", "not_an_object"), found
    _check(doc, found)


@BUDGET
@given(_objects, st.integers(-400, 300))
def test_any_too_large_object_s_dead_letter_names_its_event_id_only_when_complete_within_the_limit(
        doc: dict[str, object], cut: int) -> None:
    """The event id first in the object, the limit `cut` bytes after its value's end (or before)."""
    has_id = "event_id" in doc
    first = {"event_id": doc.pop("event_id")} if has_id else {}
    raw = json.dumps({**first, **doc, "padding": "x" * 400}).encode()
    head = len(json.dumps(first)) - 1  # the bytes up to the end of the event id's value
    found = letter(raw, max_bytes=max(1, head + cut))
    assert found.reason == "too_large"
    if cut < 0 or not has_id:
        assert found.event_id is None
    else:
        _check(first, found)

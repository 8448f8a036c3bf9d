"""Bytes in, an `Event` or a `Rejection` out. Bad input is data, never an exception."""

from __future__ import annotations

import datetime as dt
import re

from pydantic import ValidationError
from pydantic_core import from_json

from streams.core.personnummer import (
    contains_personal_identity_number,
    has_candidate,
    has_escape,
    is_personal_identity_number,
    might_have_candidate,
    redact,
)
from streams.models.events import EVENT_ADAPTER, Event
from streams.models.rejections import Rejection, RejectReason
from streams.models.vocab import EventKind

# pydantic error type -> our reason code; the first error that maps decides.
_REASONS: dict[str, RejectReason] = {
    "json_invalid": RejectReason.NOT_JSON,
    "json_type": RejectReason.NOT_JSON,
    "dict_type": RejectReason.NOT_AN_OBJECT,
    "model_type": RejectReason.NOT_AN_OBJECT,
    "union_tag_invalid": RejectReason.UNKNOWN_EVENT_TYPE,
    "union_tag_not_found": RejectReason.MISSING_FIELD,
    "missing": RejectReason.MISSING_FIELD,
    "extra_forbidden": RejectReason.UNKNOWN_FIELD,
    "string_too_long": RejectReason.FIELD_TOO_LONG,
    "timezone_aware": RejectReason.INVALID_TIMESTAMP,
}
_ORDER = list(RejectReason)
_SOLE_TRADER = ("holds a personnummer or samordningsnummer (a sole trader's organisation number is the owner's "
                "personnummer): leave organisation out for a sole trader")
#: Earlier than this is not an outcome anyone follows, and day arithmetic near year 1 overflows.
EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
_EARLIEST_S = EARLIEST.timestamp()


def _reason_of(error_type: str, loc: tuple[object, ...]) -> RejectReason:
    if error_type in _REASONS:
        return _REASONS[error_type]
    if error_type.startswith(("datetime", "date_", "time_")) or (loc and loc[-1] == "occurred_at"):
        return RejectReason.INVALID_TIMESTAMP
    return RejectReason.INVALID_FIELD


#: What the contract keeps out of identifiers (`_PRINTABLE` in models/events.py): control characters, line and
#: paragraph separators, bidirectional overrides, the byte-order mark.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")


def _shown_event_id(event_id: str) -> str:
    """An event id as a dead letter shows it: as sent, unless it holds a personnummer or
    samordningsnummer (then every personnummer-shaped run is redacted, as in the dead letter's original) or
    a character the contract keeps out of identifiers (each becomes U+FFFD: a rejects file is JSON lines, and
    a line separator or a bidirectional override in it misleads what reads or shows it)."""
    if _UNPRINTABLE.search(event_id):
        event_id = _UNPRINTABLE.sub("\ufffd", event_id)  # no digit or separator: no run made or broken
    return redact(event_id) if contains_personal_identity_number(event_id) else event_id


def _event_id_in(raw: bytes | str, *, prefix: int | None = None) -> str | None:
    """The event id of a message that parsed as a JSON object with a string `event_id` but was rejected,
    so that its dead letter can be matched to the event (`_shown_event_id`); otherwise None. With `prefix`
    (a message too large to read), only its first `prefix` bytes are parsed, as the start of a document: an
    event_id complete in them is found, one after them (or cut by their end) is not."""
    try:
        doc = from_json(raw if prefix is None else raw[:prefix], allow_partial=prefix is not None)
    except ValueError:  # not JSON, nested too deep, a number out of range: no event id to be had
        return None
    event_id = doc.get("event_id") if isinstance(doc, dict) else None
    return _shown_event_id(event_id) if isinstance(event_id, str) else None


def _rejection_from(exc: ValidationError, raw: bytes | str, source_offset: str | None) -> Rejection:
    errors = exc.errors(include_url=False, include_context=False)
    found = [(_reason_of(e["type"], tuple(e["loc"])), e) for e in errors]
    for k, (_, e) in enumerate(found):
        # A sole trader's organisation number is the owner's personnummer: said as such, never echoed.
        if e["loc"][-1:] == ("organisation",) and isinstance(e["input"], str) \
                and contains_personal_identity_number(e["input"]):
            found[k] = (RejectReason.RAW_PERSONAL_IDENTITY_NUMBER, {**e, "msg": _SOLE_TRADER})
    # Most fundamental reason first (not JSON before a bad field), so counters say what to fix first.
    found.sort(key=lambda pair: _ORDER.index(pair[0]))
    reason, first = found[0]
    parts = []
    for _, e in found[:5]:
        field = ".".join(str(x) for x in e["loc"][1:]) or "(message)"
        if e["type"] == "union_tag_invalid":  # pydantic's text echoes the value and the enum's repr
            parts.append(f"event_type: not one of the contract's event types ({', '.join(EventKind)})")
            continue
        parts.append(f"{field}: {e['msg']}")
    if reason is RejectReason.NOT_JSON:
        parts = ["the message is not valid UTF-8 JSON"]
    message = "; ".join(parts)  # field names come from the input too (an unknown field's name)
    # The message parsed (or pydantic would say not_json): parsed again, only to name the event id.
    event_id = None if reason in (RejectReason.NOT_JSON, RejectReason.NOT_AN_OBJECT) else _event_id_in(raw)
    about = ("event_type" if first["type"].startswith("union_tag") else
             str(first["loc"][1]) if len(first["loc"]) > 1 and reason is not RejectReason.NOT_JSON else None)
    return Rejection(reason=reason, message=redact(message) if has_candidate(message) else message,
                     event_id=event_id, source_offset=source_offset, field=about)


def decode_event(
    raw: bytes | str,
    now: dt.datetime,
    *,
    max_bytes: int,
    max_future: dt.timedelta,
    source_offset: str | None = None,
) -> Event | Rejection:
    """Validate one message against the v1 contract. `now` is processing (wall-clock) time. What a
    rejection says never carries a personnummer: pydantic's messages are redacted, identifiers are checked
    before any later rejection names the event id, and an event id that holds one is shown redacted."""
    size = len(raw)
    if size > max_bytes:
        # Its event id only from as much as a message may hold: no more work than an accepted message.
        return Rejection(
            reason=RejectReason.TOO_LARGE,
            message=f"message is {size} bytes; the contract allows {max_bytes}",
            event_id=_event_id_in(raw, prefix=max_bytes),
            source_offset=source_offset,
        )
    try:
        event = EVENT_ADAPTER.validate_json(raw)
    except ValidationError as exc:
        return _rejection_from(exc, raw, source_offset)
    where = _personal_identity_number_in(raw, event)
    if where is not None:
        return Rejection(
            reason=RejectReason.RAW_PERSONAL_IDENTITY_NUMBER,
            message=_what_to_do(where),
            event_id=_shown_event_id(event.event_id),
            source_offset=source_offset,
            field=where,
        )
    # One timestamp, compared as a number: each comparison of aware datetimes asks pydantic's tzinfo for
    # its offset again. Exact: the float holds every microsecond between these bounds.
    occurred = event.occurred_at.timestamp()
    if occurred < _EARLIEST_S:
        # A year-1 date (a default value, a typo) would overflow day arithmetic in local time.
        return Rejection(
            reason=RejectReason.INVALID_TIMESTAMP,
            message=f"occurred_at is before {EARLIEST.date()}: not a date the monitor can follow",
            event_id=event.event_id,
            source_offset=source_offset,
            field="occurred_at",
        )
    if occurred > (now + max_future).timestamp():
        return Rejection(
            reason=RejectReason.IN_THE_FUTURE,
            message=f"occurred_at is more than {_duration(max_future)} after processing time",
            event_id=event.event_id,
            source_offset=source_offset,
            field="occurred_at",
        )
    return event


def _duration(span: dt.timedelta) -> str:
    """A span as people write it, in its largest whole unit: "1 day", "2 days", "6 h", "90 min", "3.6 s"."""
    seconds = span.total_seconds()
    if seconds >= 86400 and seconds % 86400 == 0:
        days = int(seconds // 86400)
        return f"{days} day" if days == 1 else f"{days} days"
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{int(seconds // 3600)} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)} min"
    return f"{seconds:g} s"


#: Every identifier of the contract: none may carry a personnummer, whatever its field.
IDENTIFIER_FIELDS = ("person_id", "event_id", "unit_id", "stay_id", "retracts", "source", "program", "instrument",
                     "question", "scale", "answer")


def _what_to_do(field: str) -> str:
    """The rejection's message: the field, and what its sender should send instead."""
    said = f"{field} holds a personnummer or samordningsnummer; identifiers must not identify a person"
    if field == "person_id":
        return said + " (send a pseudonymous key as person_id)"
    return said + f" (write {field} without it: a generated id such as a UUID, or the source system's own key)"


_ORGANISATION_MEMBER = re.compile(r'"organisation"\s*:\s*"[0-9]{6}-?[0-9]{4}"')
_ORGANISATION_MEMBER_BYTES = re.compile(rb'"organisation"\s*:\s*"[0-9]{6}-?[0-9]{4}"')


def _without_organisation(raw: bytes | str, event: Event) -> bytes | str:
    """The line without its `organisation` member, as the quick search reads it: an organisationsnummer is
    shaped like a personnummer but, validated, never is one (its third digit is 2 or more), and every
    line naming an organisation would otherwise take the slow path of the field-by-field checks."""
    if event.organisation is None:
        return raw
    if isinstance(raw, bytes):
        return _ORGANISATION_MEMBER_BYTES.sub(b'"organisation":""', raw)
    return _ORGANISATION_MEMBER.sub('"organisation":""', raw)


def _personal_identity_number_in(raw: bytes | str, event: Event) -> str | None:
    """The first identifier field that holds a personnummer, or None. Lines without a run of ten
    digits placed like one (nearly all) are passed by one search over the raw bytes, unless they hold a
    JSON `\\u` escape (digits may be written with them: "\\u0038112189876" is read as 8112189876).
    `person_id` is also checked strictly: a value that is a number in full is one, whatever its year."""
    escaped = has_escape(raw)
    read = raw if escaped else _without_organisation(raw, event)
    if not escaped and not might_have_candidate(read):
        return None
    # The fields first, then the exact search over the line: both must find one (unless escaped), and the
    # fields' verdicts are cached per value, which the line's search cannot be (an all-digit person id
    # brings every line of its person here).
    fields = event.__dict__  # not getattr: a field of another event type would go through pydantic's slow miss
    for name in IDENTIFIER_FIELDS:
        value = fields.get(name)
        if isinstance(value, str) and (contains_personal_identity_number(value) or (
                name == "person_id" and is_personal_identity_number(value))):
            return name if escaped or has_candidate(read) else None
    return None

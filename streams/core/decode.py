"""Bytes in, an `Event` or a `Rejection` out. Bad input is data, never an exception."""

from __future__ import annotations

import datetime as dt

from pydantic import ValidationError

from streams.core.personnummer import contains_personal_identity_number, has_candidate, redact
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


def _rejection_from(exc: ValidationError, source_offset: str | None) -> Rejection:
    errors = exc.errors(include_url=False, include_context=False)
    found = [(_reason_of(e["type"], tuple(e["loc"])), e) for e in errors]
    for k, (_, e) in enumerate(found):
        # A sole trader's organisation number is the owner's personnummer: said as such, never echoed.
        if e["loc"][-1:] == ("organisation",) and isinstance(e["input"], str) \
                and contains_personal_identity_number(e["input"]):
            found[k] = (RejectReason.RAW_PERSONAL_IDENTITY_NUMBER, {**e, "msg": _SOLE_TRADER})
    # Most fundamental reason first (not JSON before a bad field), so counters say what to fix first.
    found.sort(key=lambda pair: _ORDER.index(pair[0]))
    reason = found[0][0]
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
    return Rejection(reason=reason, message=redact(message) if has_candidate(message) else message,
                     source_offset=source_offset)


def decode_event(
    raw: bytes | str,
    now: dt.datetime,
    *,
    max_bytes: int,
    max_future: dt.timedelta,
    source_offset: str | None = None,
) -> Event | Rejection:
    """Validate one message against the v1 contract. `now` is processing (wall-clock) time. What a
    rejection says never carries a personnummer: pydantic's messages are redacted, and identifiers are
    checked before any rejection that names the event id."""
    size = len(raw)
    if size > max_bytes:
        return Rejection(
            reason=RejectReason.TOO_LARGE,
            message=f"message is {size} bytes; the contract allows {max_bytes}",
            source_offset=source_offset,
        )
    try:
        event = EVENT_ADAPTER.validate_json(raw)
    except ValidationError as exc:
        return _rejection_from(exc, source_offset)
    where = _personal_identity_number_in(raw, event)
    if where is not None:
        return Rejection(
            reason=RejectReason.RAW_PERSONAL_IDENTITY_NUMBER,
            message=f"{where} holds a personnummer or samordningsnummer; identifiers must not identify a "
                    "person (send a pseudonymous key as person_id)",
            event_id=None if contains_personal_identity_number(event.event_id) else event.event_id,
            source_offset=source_offset,
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
        )
    if occurred > (now + max_future).timestamp():
        return Rejection(
            reason=RejectReason.IN_THE_FUTURE,
            message=f"occurred_at is more than {_duration(max_future)} after processing time",
            event_id=event.event_id,
            source_offset=source_offset,
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
IDENTIFIER_FIELDS = ("person_id", "event_id", "unit_id", "stay_id", "source", "program", "instrument",
                     "question", "scale", "answer")


def _personal_identity_number_in(raw: bytes | str, event: Event) -> str | None:
    """The first identifier field that holds a personnummer, or None. Lines without a run of ten
    digits (nearly all) are passed by one regular-expression search over the raw bytes."""
    if not has_candidate(raw):
        return None
    for name in IDENTIFIER_FIELDS:
        value = getattr(event, name, None)
        if isinstance(value, str) and contains_personal_identity_number(value):
            return name
    return None

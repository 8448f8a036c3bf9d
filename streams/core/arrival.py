"""The arrival header: when a record reached the monitor, in event-time terms (the `om-arrival` contract).

A producer that loads history sets `om-arrival` to the epoch seconds of the stream's own clock at that
record (what `publish` does), so lateness is judged as when the history was live. The value is ASCII
epoch seconds, an integer (`1735689600`) or a decimal (`1735689600.25`); the fraction is dropped.
Anything else is refused with its own reason: a header the monitor cannot read is never ignored, since
falling back to the record timestamp would silently judge a whole backfill `too_late`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from streams.models.events import ARRIVAL_HEADER
from streams.models.rejections import Rejection, RejectReason

_EPOCH = re.compile(rb"\s*([0-9]{1,12})(?:\.[0-9]{0,9})?\s*")
#: 1970-01-01 .. 9999-12-31: a header outside this is a unit mistake (milliseconds, say), not a time.
MAX_EPOCH_S = 253_402_300_799


@dataclass(frozen=True, slots=True)
class Arrival:
    seconds: int
    from_header: bool


def arrival_of(headers: Iterable[tuple[str, bytes | None]], record_timestamp_ms: int,
               source_offset: str | None = None) -> Arrival | Rejection:
    """The record's arrival time: the `om-arrival` header when present, else the record timestamp."""
    for name, value in headers:
        if name != ARRIVAL_HEADER:
            continue
        raw = bytes(value or b"")
        match = _EPOCH.fullmatch(raw)
        seconds = int(match.group(1)) if match else -1
        if not match or seconds > MAX_EPOCH_S:
            shown = raw[:40].decode("ascii", "replace").encode("unicode_escape").decode("ascii")
            return Rejection(reason=RejectReason.INVALID_ARRIVAL_HEADER, source_offset=source_offset,
                             message=f"header {ARRIVAL_HEADER} must be epoch seconds (an integer or a decimal "
                                     f"from 0 to {MAX_EPOCH_S}), got {len(raw)} byte(s): '{shown}'")
        return Arrival(seconds, True)
    seconds = record_timestamp_ms // 1000
    if not 0 <= seconds <= MAX_EPOCH_S:  # a producer's clock in microseconds, say: not a time we can use
        return Rejection(reason=RejectReason.INVALID_RECORD_TIMESTAMP, source_offset=source_offset,
                         message=f"the record timestamp ({record_timestamp_ms} ms) is not a time from 1970 to 9999; "
                                 f"set the producer's timestamps in milliseconds, or send {ARRIVAL_HEADER}")
    return Arrival(seconds, False)

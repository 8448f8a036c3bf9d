"""A compact, ordered, serialisable form of an accepted person event (what the person fold reads)."""

from __future__ import annotations

from sys import intern

import msgspec
from msgspec.structs import astuple

from streams.core.timebase import epoch, local_day
from streams.models.events import (
    Admission,
    Discharge,
    Enrollment,
    HomeCareContact,
    PersonEvent,
    Retraction,
    SickLeave,
)
from streams.models.vocab import EventKind


class Fact(msgspec.Struct, frozen=True, order=True, array_like=True, gc=False):
    """Ordered by (t, event_id): the event-time order every fold uses, whatever the arrival order.

    A struct the cyclic garbage collector does not track (`gc=False`: it holds numbers and strings only, so
    it can be in no reference cycle): a worker decodes person states from its tables all the time, and the
    collector walked every fact of each (BENCHMARKS.md, "The collector's young generation"). Compared, hashed
    and encoded (as an array) like the tuple it was."""

    t: int
    event_id: str
    kind: EventKind
    unit_id: str
    day: int
    value: float = 0.0
    planned: bool = False
    ref: str = ""


def fact_of(event: PersonEvent, tz: str, t: int | None = None) -> Fact:
    """`t`: epoch seconds of occurred_at when the caller has them already."""
    t = epoch(event.occurred_at) if t is None else t
    day = local_day(event.occurred_at, tz)
    # unit ids and kinds repeat across millions of facts: one string object each
    base = (t, event.event_id, event.event_type, intern(event.unit_id), day)
    if isinstance(event, HomeCareContact):  # the most frequent kind: first (the kinds are disjoint)
        return Fact(*base, value=float(event.minutes), planned=event.planned)
    if isinstance(event, SickLeave):
        return Fact(*base, value=float(event.extent))
    if isinstance(event, Admission):
        return Fact(*base, planned=event.planned, ref=event.stay_id)
    if isinstance(event, Discharge):
        return Fact(*base, ref=event.stay_id)
    if isinstance(event, Retraction):  # value: when the retracted event occurred (epoch seconds)
        return Fact(*base, value=float(epoch(event.retracted_occurred_at)), ref=event.retracts)
    if isinstance(event, Enrollment):  # value 1.0: the person left the programme
        return Fact(*base, value=1.0 if event.status == "left" else 0.0, ref=event.program)
    return Fact(*base)  # an event with nothing but its time, kind and unit (e.g. an ED visit)


#: value, planned, ref: what a fact holds when its event says nothing more than time, kind and unit
_DEFAULTS = (0.0, False, "")


def fact_to_list(fact: Fact) -> list[object]:
    """Stored without the trailing fields left at their defaults (most facts: an ED visit, a day of sick
    leave at full extent has its value): a person's stored state is ~20% smaller (person state 4)."""
    fields = astuple(fact)
    n = 8
    while n > 5 and fields[n - 1] == _DEFAULTS[n - 6]:
        n -= 1
    return list(fields[:n])


def fact_from_list(row: list) -> Fact:  # type: ignore[type-arg]
    """A stored fact: all eight fields (person state 1-3) or without trailing defaults (4)."""
    rest = (*row[5:], *_DEFAULTS[len(row) - 5:])
    return Fact(int(row[0]), str(row[1]), EventKind(row[2]), intern(str(row[3])), int(row[4]),
                float(rest[0]), bool(rest[1]), str(rest[2]))

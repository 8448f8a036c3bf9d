"""Records a person's state has taken already, by their place in the stream they came from.

Between the worker's stages delivery is at least once: after a crash a stage can read its input again
and send the same events on. An event sent again is recognised by its id while the person's state still
remembers the id (`dedup_window_days` beyond the allowed lateness); in a fast backfill the person's clock
can have moved further than that, and the event would then be judged too late although it was taken the
first time. Its place in its source stream tells the two apart: a source's records reach a person in
the order of the source, so one at or below the highest place taken from that source was taken before.
Only that case uses it; an event never seen keeps its lateness verdict.
"""

from __future__ import annotations

import sys


def source_place(source_offset: str | None) -> tuple[str, int] | None:
    """`source/index` (a Kafka record's `topic/partition/offset` reads as source `topic/partition`) or
    None when the name has no integer index at its end (a file's `name:line`)."""
    if not source_offset:
        return None
    source, sep, index = source_offset.rpartition("/")
    if not sep or not index.isdigit():
        return None
    return sys.intern(source), int(index)


def taken_before(taken: dict[str, int], place: tuple[str, int] | None) -> bool:
    return place is not None and taken.get(place[0], -1) >= place[1]


def mark_taken(taken: dict[str, int], place: tuple[str, int] | None) -> bool:
    """Mark `place` taken; True when that raised the highest place taken from its source (the person's
    state changed, even when the event itself was a duplicate or too late)."""
    if place is not None and taken.get(place[0], -1) < place[1]:
        taken[place[0]] = place[1]
        return True
    return False

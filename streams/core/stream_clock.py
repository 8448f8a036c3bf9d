"""The stream's own clock, which one line cannot move.

`ahead_s` is the allowed lateness: a line less far ahead cannot make the lines in step with the stream
too late, so it is taken at once; one further ahead could, so it must first be seen to be the stream's.

A file or topic of events has a time of its own: the running maximum of occurred_at in arrival order.
That clock decides what is too late. Taken plainly, one mistyped line (a history of 2024-2025 with one
line dated today) moves it to today, and every later line of the history is then too late. Here an
event more than `ahead_s` after the clock does not move it at once; it is held:
- when `confirm` held events lie within `ahead_s` of each other, the whole stream has moved on (a gap in
  the data, a source switched on late): they, and the held events before them, are released in time
  order, and the clock moves to the latest of them;
- when `refute` events in step with the clock arrive while it is held, it was a stray line: it is
  released at the clock as it stands, and the door rejects it as `ahead_of_stream`;
- the clock starts the same way: the first events are held until `confirm` of them lie close together
  (so a stray first line cannot set it either);
- at the end of the input, what is still held is released at its own time: nothing can come after it
  that it could make late (this is also how a sparse stream, whose clock never started, is taken). So a
  stray line among the last `refute` lines of a file is taken as it is; its effect stays on its own
  person and unit.
Released items keep their order of occurred_at; results depend on the order only within the allowed
lateness, which this does not exceed. Plain Python, no I/O: `replay` and `publish` use the same class.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

CONFIRM = 3  # ahead events close together that show the stream has moved on
REFUTE = 20  # events in step with the clock that show a held one was a stray line
RECENT_KEYS = 4096  # a re-sent event (same id) seen again within this many is not new evidence


@dataclass(slots=True)
class _Held(Generic[T]):
    t: int
    seq: int
    item: T
    in_step_since: int = 0


@dataclass(slots=True)
class StreamClock(Generic[T]):
    ahead_s: int
    confirm: int = CONFIRM
    refute: int = REFUTE
    now: int = 0
    held: list[_Held[T]] = field(default_factory=list)
    _seq: int = 0
    _recent: deque[str] = field(default_factory=deque)
    _recent_set: set[str] = field(default_factory=set)

    def offer(self, t: int, item: T, key: str | None = None) -> list[tuple[T, int]]:
        """Take an event at event time `t` (`key`: its event id, so that a re-sent event counts once as
        evidence); return the items released by it, each with its arrival time (the clock when it is
        released), in the order they are to be processed."""
        self._seq += 1
        new = self._is_new(key)
        if self.now and t <= self.now + self.ahead_s:
            self.now = max(self.now, t)
            out = [(item, self.now)]
            if self.held:
                out += self._after_in_step(new)
            return out
        self.held.append(_Held(t, self._seq, item))
        return self._confirmed()

    def drain(self) -> list[tuple[T, int]]:
        """The end of the input: what is still held was neither confirmed nor refuted, and nothing can
        come after it that it could make late; it is released at its own time, in time order."""
        out = []
        for h in sorted(self.held, key=lambda h: (h.t, h.seq)):
            self.now = max(self.now, h.t)
            out.append((h.item, self.now))
        self.held = []
        return out

    def _is_new(self, key: str | None) -> bool:
        if key is None:
            return True
        if key in self._recent_set:
            return False
        self._recent.append(key)
        self._recent_set.add(key)
        if len(self._recent) > RECENT_KEYS:
            self._recent_set.discard(self._recent.popleft())
        return True

    def _after_in_step(self, new: bool) -> list[tuple[T, int]]:
        out: list[tuple[T, int]] = []
        keep = []
        for h in self.held:
            h.in_step_since += new
            if h.t <= self.now + self.ahead_s:  # the clock has come near it in the usual way
                out.append((h.item, max(self.now, h.t)))
            elif h.in_step_since >= self.refute:  # a stray line: released for rejection
                out.append((h.item, self.now))
            else:
                keep.append(h)
        self.held = keep
        return out

    def _confirmed(self) -> list[tuple[T, int]]:
        """`confirm` held events within `ahead_s` of each other: the stream has moved on to them. They
        and every held event before them (the stream has passed those) are released in time order, each
        at its own time; a held event further ahead stays held."""
        held = sorted(self.held, key=lambda h: (h.t, h.seq))
        for i in range(len(held) - self.confirm + 1):
            group = held[i:i + self.confirm]
            if group[-1].t - group[0].t <= self.ahead_s:
                horizon = group[0].t + self.ahead_s
                out = [(h.item, h.t) for h in held if h.t <= horizon]
                self.held = [h for h in held if h.t > horizon]
                self.now = max(self.now, max(t for _, t in out))
                return out
        return []

"""A timer's work in a task of its own, one at a time.

faust runs a timer's body in line and warns ("Timer ... is overlapping") when it outlasts the interval; work
that may await the broker for longer (a catch-up read, a write of held states in slices) is therefore started
as a task, and a tick that finds the last one still running starts none."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


class TimerTask:
    """At most one task of a timer's work at a time."""

    def __init__(self) -> None:
        self._task: asyncio.Future[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self, work: Callable[[], Awaitable[None]]) -> None:
        """Start `work` in a task unless the last one is still running."""
        if not self.running:
            self._task = asyncio.ensure_future(work())

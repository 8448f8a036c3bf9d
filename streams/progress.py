"""Progress lines for long jobs: replay, publish and benchmarks (`Progress`, at most one every two seconds)
and the worker's backlog (`BacklogReport`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO


class Progress:
    def __init__(self, label: str, out: IO[str], total: int | None = None, every_s: float = 2.0) -> None:
        self.label, self.out, self.total, self.every_s = label, out, total, every_s
        self.started = self.last = time.monotonic()

    def tick(self, done: int) -> None:
        now = time.monotonic()
        if now - self.last < self.every_s:
            return
        self.last = now
        rate = done / max(now - self.started, 1e-9)
        of = f"/{self.total:,}" if self.total else ""
        self.out.write(f"{self.label}: {done:,}{of} events, {rate:,.0f}/s\n")
        self.out.flush()

    def done(self, done: int) -> None:
        elapsed = time.monotonic() - self.started
        if elapsed >= self.every_s:
            self.out.write(f"{self.label}: finished {done:,} events in {elapsed:.1f} s\n")
            self.out.flush()


@contextmanager
def working(label: str, out: IO[str] | None, every_s: float = 2.0) -> Iterator[None]:
    """For a step with nothing to count (an estimate): a line when it starts, one every `every_s` seconds
    while it runs (from a thread, so the step itself is untouched), and one with its time when it ends."""
    if out is None:
        yield
        return
    started = time.monotonic()
    out.write(f"{label} ...\n")
    out.flush()
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every_s):
            out.write(f"{label}: {time.monotonic() - started:.0f} s\n")
            out.flush()

    thread = threading.Thread(target=beat, name="progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
    out.write(f"{label}: done in {time.monotonic() - started:.1f} s\n")
    out.flush()


class BacklogReport:
    """The worker's backlog line, every few seconds while there is a real backlog (a backfill, a restart
    after downtime) or a lag that does not move; one line when it is caught up; nothing in steady state,
    where the records in flight are cleared within `steady_s` seconds at the current rate (the worker passes
    its report interval: what is behind now is gone by the next report).

    The first report after start also says "caught up" when the worker processed anything since it
    started: a backlog drained before the first report (a short history, a fast worker) still leaves its
    line, so an engineer who started a worker on a waiting history always sees that it was worked off."""

    def __init__(self, steady_s: float = 5.0) -> None:
        self.steady_s = steady_s
        self.reported = False
        self.first = True

    def line(self, waiting: int, internal: int, rate: float, processed: int = 0) -> str | None:
        """`processed`: the input events processed since the worker started."""
        behind = waiting + internal
        first, self.first = self.first, False
        if behind and (rate <= 0 or behind >= rate * self.steady_s):
            self.reported = True
            eta = f"~{waiting / rate:,.0f} s left" if rate > 0 else "no progress in the last interval"
            return (f"backlog: {waiting:,} input events waiting ({internal:,} on internal topics), "
                    f"{rate:.0f} events/s, {eta}")
        if self.reported or (first and processed):
            self.reported = False
            return (f"backlog: caught up ({behind:,} records in flight), {rate:.0f} events/s, "
                    f"{processed:,} input events processed since start")
        return None

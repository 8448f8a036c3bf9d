"""Progress lines for long jobs (replay, publish, benchmarks), at most one every two seconds."""

from __future__ import annotations

import time
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

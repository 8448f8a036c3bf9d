"""`[done/total] what: elapsed, about so much to go`: the parts' progress on stderr."""

from __future__ import annotations

import sys
import time


class Progress:
    """`[done/total] what: elapsed, about so much to go` on stderr."""

    def __init__(self, part: str, total: int) -> None:
        self.part, self.total, self.done, self.started = part, total, 0, time.monotonic()

    def step(self, what: str) -> None:
        self.done += 1
        elapsed = time.monotonic() - self.started
        print(f"{self.part} [{self.done}/{self.total}] {what}: {elapsed:.0f} s, "
              f"about {elapsed / self.done * (self.total - self.done):.0f} s to go", file=sys.stderr, flush=True)

"""Free heap pages handed back to the operating system after the worker's work, so that its resident
memory follows what it holds instead of the high-water mark of a drained backlog.

glibc's allocator returns freed memory to the system only from the top of its heap. A worker rewrites
its unit states (tens of KB each) every batch and decodes thousands of records per poll; while a backlog
drains, those freed blocks spread over the heap and stayed resident: 1,630-2,020 B per tracked person
after draining 100,000 persons, against 1,140-1,230 B with `malloc_trim(0)` after the drain (three runs
each, `make bench`'s worker-memory run, 2026-12-01). `malloc_trim(0)` also releases whole free pages in
the middle of the heap (glibc >= 2.8), without moving anything.

It runs on a timer and only when the stages processed records since the last time (the agents' own
count, whether faust delivered the records or a catch-up read them), so an idle worker does nothing.
Where the C library has no `malloc_trim` (musl, macOS) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

#: seconds between two looks; a trim after a busy interval took 1-3 ms (a worker tracking 100,000 persons)
TRIM_INTERVAL_S = 10.0


def malloc_trim() -> Callable[[], object] | None:
    """The C library's `malloc_trim(0)`, or None where there is none."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        trim = libc.malloc_trim
    except (OSError, AttributeError, TypeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return lambda: trim(0)


class HeapTrim:
    """Trims once after work: `tick(processed)` (the timer, with the records processed so far) trims
    when that count moved since the last tick."""

    def __init__(self, trim: Callable[[], object] | None) -> None:
        self._trim = trim
        self._processed = 0
        self.trims = 0

    def tick(self, processed: int) -> None:
        if self._trim is None or processed == self._processed:
            return
        self._processed = processed
        started = time.perf_counter()
        self._trim()
        self.trims += 1
        log.debug("heap trimmed in %.1f ms", (time.perf_counter() - started) * 1000)

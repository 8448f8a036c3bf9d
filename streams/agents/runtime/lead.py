"""How far the door may run ahead of the stage it feeds: the ingest waits, before it reads its next batch,
while this worker's person stage has more than `limit` of the ingest's batch messages still to take.

The ingest keeps no state, so nothing has to be flushed before its positions move: its outputs are
acknowledged per batch. It used to wait for the flush of faust's producer all the same, and that flush
carries every other stage's changelog records; the wait throttled the door by accident. Without any
wait the door ran ahead (BENCHMARKS.md, "The ingest without a flush"): faster drains, but beside a busy
core it took small batches often, competed with the stages behind it for the free core, and its outputs
waited in the worker's buffers (p99 event -> flag up to 9 s; +40% memory a person). This bound is the
throttle on purpose: the door reads on while the person stage keeps up, and records wait in the broker,
not in the worker, while it does not; what the door then reads comes in larger batches.

What is counted: for each partition of the person stage's topic that this worker owns, the offsets this
worker's producer wrote there (acknowledged) beyond the person stage's position. Messages other workers
write are not counted (each worker paces its own door), nor are partitions other workers own. The bound
only paces reading: no record is skipped or read twice because of it, and if the person stage makes no
progress for `patience_s` (not ready, a rebalance), the door goes on as it would without the bound.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable


class Lead:
    """The door's lead over the stage it feeds, in batch messages; `paced()` waits while it is over `limit`."""

    def __init__(self, limit: int, written: Callable[[int], int | None], position: Callable[[int], int | None],
                 owned: Callable[[], Iterable[int]], patience_s: float = 5.0) -> None:
        self.limit, self.patience_s = limit, patience_s
        self._written, self._position, self._owned = written, position, owned
        self._progress = asyncio.Event()
        self.waits = 0  # how often the door waited

    def ahead(self) -> int:
        """Batch messages this worker wrote to partitions it owns that its person stage has not taken yet."""
        n = 0
        for p in self._owned():
            last = self._written(p)
            if last is None:
                continue
            position = self._position(p)
            if position is not None and last >= position:
                n += last + 1 - position
        return n

    def progressed(self) -> None:
        """The person stage took a batch (its positions moved): the door looks again."""
        self._progress.set()

    async def paced(self) -> None:
        """Return once the lead is within the limit, or the person stage made no progress for `patience_s`."""
        if self.ahead() <= self.limit:
            return
        self.waits += 1
        deadline = time.monotonic() + self.patience_s
        while self.ahead() > self.limit:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._progress.clear()
            try:
                await asyncio.wait_for(self._progress.wait(), timeout=left)
            except TimeoutError:
                return
            deadline = time.monotonic() + self.patience_s  # it moves: wait on while it keeps moving

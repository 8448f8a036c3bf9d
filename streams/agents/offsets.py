"""The worker's consumer: offset commits that stay right across a restart, and prompt fetches.

faust commits, per partition, the first run of consecutive offsets its agents have acknowledged, and
remembers the last offset it read so it can drop a record it has seen. Every restart and rebalance seeks
back to the committed offsets, and a fetch that was under way during the seek can still deliver records
from *before* it. What then goes wrong (seen here in about one SIGKILL restart in three; upstream:
robinhood/faust#559 and #625):

1. The stale records are delivered and move "last read" far ahead; the same offsets, fetched again from
   the committed position, are dropped as "already read". Offsets that were fetched before the seek
   but never delivered (partitions are held back during recovery) are then never delivered at all.
2. faust takes the jump from the committed offset to a stale record for a *gap* and counts the offsets
   in between as done: committed without being processed, so a crash loses them.
3. Offsets that are both gap-filled and acknowledged appear twice in the acknowledged list; a duplicate
   ends a run of consecutive numbers, so each commit advances by one offset and the lag seems frozen.

What this consumer does instead:
- After a seek to offset X of a partition, it delivers nothing from that partition until the record at
  X (or X+1, past a transaction marker) arrives: everything else is a stale fetch, and will come again.
  If the expected record has not come within `STALE_FOR_S`, the offsets were removed by retention
  before they were processed: that is logged as a warning and the gap is accepted, so commits move on.
- It records gaps only for compacted topics (compaction removes offsets) and for that retention case.
- It removes duplicates before it looks for the run to commit.
- Records can still be lost on the way to an agent: faust clears its queues when a recovery ends, and
  drops fetched records of a partition that a rebalance has just paused. Then the partition's
  committed offset stops moving while records wait beyond it. When that is so at two checks
  `STALL_CHECK_S` apart (faust commits every few seconds while anything is processed), the consumer
  seeks the partition back to its committed offset and reads the lost records again (a warning).
Re-delivered records are harmless: every stage of the monitor recognises what it has already seen.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from faust.transport.drivers import aiokafka as aiokafka_driver
from faust.types import TP
from faust.utils.functional import consecutive_numbers
from mode import Service

log = logging.getLogger(__name__)

STALE_FOR_S = 60.0
STALL_CHECK_S = 10.0
MAX_REREADS = 3
FETCH_MAX_WAIT_MS = 100


class PromptConsumerThread(aiokafka_driver.AIOKafkaConsumerThread):
    """faust creates its aiokafka consumer with a fixed 1.5 s fetch wait: a partition left out of the
    fetch under way waits that long for its next one, at every hop of the pipeline (event-to-flag
    latency was ~3 s at 1,000 events/s). A short wait costs a few idle requests a second."""

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer


class CommitSafeConsumer(aiokafka_driver.Consumer):
    """faust's aiokafka consumer that skips fetches made stale by a seek, records gaps only where
    offsets can really be missing, and never counts an acknowledgement twice."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._expected_next: dict[TP, tuple[int, float]] = {}
        self._accept_gap: set[TP] = set()
        self._stalled: dict[TP, int] = {}
        self._rereads: dict[tuple[TP, int], int] = {}
        self.stale_records_skipped = 0
        self.lost_deliveries_reread = 0

    def _new_consumer_thread(self) -> Any:
        return PromptConsumerThread(self, loop=self.loop, beacon=self.beacon)

    def _compacted(self) -> frozenset[str]:
        return frozenset(getattr(self.app, "compacted_topics", ()))

    def _expect(self, tp: TP, offset: int | None) -> None:
        if offset is None or offset < 0 or tp.topic in self._compacted() or self._is_changelog_tp(tp):
            return
        self._expected_next[tp] = (offset, time.monotonic() + STALE_FOR_S)

    async def seek(self, partition: TP, offset: int) -> None:
        await super().seek(partition, offset)
        self._expect(partition, offset)

    async def perform_seek(self) -> None:
        await super().perform_seek()
        for tp in self.assignment():
            self._expect(tp, self._read_offset.get(tp))

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[TP, Any]]:
        expected = self._expected_next
        async for tp, message in super().getmany(timeout):
            if expected and tp in expected:
                offset, deadline = expected[tp]
                if message.offset > offset + 1:
                    if time.monotonic() < deadline:
                        self.stale_records_skipped += 1
                        continue  # fetched before the seek; it comes again from the sought offset
                    log.warning("offsets %s-%s of %s/%s were gone before they were processed "
                                "(removed by retention?); going on from %s", offset, message.offset - 1,
                                tp.topic, tp.partition, message.offset)
                    self._accept_gap.add(tp)
                del expected[tp]
            yield tp, message

    def _stalled_now(self) -> dict[TP, int]:
        """Partitions with records beyond their committed offset: {partition: committed offset}."""
        behind: dict[TP, int] = {}
        for tp in self.assignment():
            if tp.topic in self._compacted() or self._is_changelog_tp(tp):
                continue
            committed = self._committed_offset.get(tp)
            try:
                high = self.highwater(tp)
            except Exception:  # noqa: BLE001 - unknown yet (no fetch answered for it): not stalled
                continue
            if committed is not None and high is not None and high > committed:
                behind[tp] = committed
        return behind

    @Service.timer(STALL_CHECK_S)
    async def _check_for_lost_deliveries(self) -> None:
        await self.reread_lost_deliveries()

    async def reread_lost_deliveries(self) -> None:
        """A partition that has records beyond its committed offset, and whose committed offset did not
        move between two checks, lost deliveries (faust commits every few seconds while records are
        processed): read it again from the committed offset. What was processed already is recognised
        downstream; what was lost is processed now."""
        app = self.app
        if app.rebalancing or app.in_recovery or not self.flow_active:
            self._stalled = {}
            return
        stalled = self._stalled_now()
        for tp, committed in stalled.items():
            if self._stalled.get(tp) == committed:
                tries = self._rereads.get((tp, committed), 0)
                if tries >= MAX_REREADS:
                    continue  # e.g. a transaction marker at the end: nothing more will come
                self._rereads[(tp, committed)] = tries + 1
                acked = self._acked.get(tp)
                log.warning("%s/%s has not moved past offset %s for %.0f s with records after it%s; "
                            "reading it again from there", tp.topic, tp.partition, committed, STALL_CHECK_S,
                            f" (offsets from {min(acked)} on were processed)" if acked else "")
                self.lost_deliveries_reread += 1
                await self.seek(tp, committed)
        self._stalled = stalled
        self._rereads = {k: n for k, n in self._rereads.items() if stalled.get(k[0]) == k[1]}

    async def _add_gap(self, tp: TP, offset_from: int, offset_to: int) -> None:
        if tp.topic in self._compacted() or tp in self._accept_gap:
            self._accept_gap.discard(tp)
            await super()._add_gap(tp, offset_from, offset_to)

    def _new_offset(self, tp: TP) -> int | None:
        """faust's own rule (the end of the first run of acknowledged offsets, gaps counting as
        acknowledged, one missing offset at the head tolerated), counting every offset once."""
        acked = self._acked[tp]
        if not acked:
            return None
        gaps = self._gap[tp]
        if gaps:
            covered = sorted(gaps.overlap(0, max(acked)), key=lambda iv: iv.begin)
            if covered:
                for interval in covered:
                    acked.extend(range(interval.begin, interval.end))
                gaps.chop(0, max(covered[-1].end, max(acked) + 1))
        acked[:] = sorted(set(acked))
        committed = self._committed_offset[tp]
        if committed and acked[0] - committed > 1:
            return None
        run = next(consecutive_numbers(acked))
        del acked[: len(run)]
        self._acked_index[tp].difference_update(run)
        return int(run[-1]) + 1


class CommitSafeTransport(aiokafka_driver.Transport):
    Consumer = CommitSafeConsumer

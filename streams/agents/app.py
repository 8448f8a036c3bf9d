"""The worker's faust app: faust's, on the commit-safe consumer, with room for a batch's table writes."""

from __future__ import annotations

from typing import Any

import faust

from streams.agents.offsets import CommitSafeTransport

#: Table writes wait in faust's producer buffer; past this many, faust holds every incoming message
#: until the buffer drains (and logs a warning each time). A batch writes one entry per changed key.
PRODUCER_BUFFER_MESSAGES = 50_000


class MonitorApp(faust.App):
    """`compacted_topics` names the topics whose offsets may have holes (compaction), where faust's gap
    bookkeeping stays on (see streams/agents/offsets.py)."""

    compacted_topics: frozenset[str] = frozenset()

    def _new_transport(self) -> Any:
        return CommitSafeTransport(self.conf.broker_consumer, self)

    def _new_producer(self) -> Any:
        producer = super()._new_producer()
        producer.buffer.max_messages = PRODUCER_BUFFER_MESSAGES
        return producer

"""The one rejection for data that comes later than the allowed lateness, for replay and worker alike."""

from __future__ import annotations

from streams.core.config import MonitorConfig
from streams.core.timebase import from_epoch
from streams.models.rejections import Rejection, RejectReason


def too_late(config: MonitorConfig, clock: int | None, event_id: str | None,
             source_offset: str | None) -> Rejection:
    """`clock`: the stream's event-time clock (epoch seconds) the event was measured against, if known."""
    against = f" ({from_epoch(clock).date()})" if clock is not None else ""
    return Rejection(reason=RejectReason.TOO_LATE, event_id=event_id, source_offset=source_offset,
                     message=f"occurred_at is more than {config.allowed_lateness_days:g} days before the "
                             f"stream's clock{against}", field="occurred_at")

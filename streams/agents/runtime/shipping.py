"""Unit updates as they travel on the unit-updates topic."""

from __future__ import annotations

from streams.core.stages import StaffingReport, UnitUpdate
from streams.models.internal import UnitUpdateMessage


def unit_update_json(update: UnitUpdate, source_offset: str | None) -> str:
    return UnitUpdateMessage(unit_id=update.unit_id, source=update.source, seq=update.seq,
                             deltas=update.deltas, presence=update.presence, staffing=update.staffing,
                             source_offset=source_offset).model_dump_json()


def unit_update_of(msg: UnitUpdateMessage) -> UnitUpdate:
    return UnitUpdate(msg.unit_id, msg.source, msg.seq, list(msg.deltas), list(msg.presence),
                      StaffingReport(*msg.staffing) if msg.staffing is not None else None)

"""Readmission: an unplanned admission within `readmission_window_days` of a discharge.

The index discharge must be of another stay than the admission (`stay_id`). Every such admission
raises a flag (each is a care event worth a look); the unit's readmission rate
counts each index discharge once, on the discharging unit and day.
"""

from __future__ import annotations

from streams.core.config import MonitorConfig
from streams.core.person.fold import Emits, PersonFold, Seen
from streams.core.person.rules.base import person_flag
from streams.core.timebase import DAY_S, from_epoch
from streams.models.flags import ReadmissionEvidence
from streams.models.vocab import EventKind, Rule, UnitMetric


class Readmission:
    rule = Rule.READMISSION_30D
    kinds = frozenset({EventKind.ADMISSION})

    def __init__(self, config: MonitorConfig) -> None:
        self.window_days = config.rules.readmission_window_days

    def check(self, s: PersonFold, seen: Seen, subject: str, out: Emits) -> None:
        f = seen.fact
        if f.kind != EventKind.ADMISSION or f.planned:
            return
        # The index discharge is the latest of *another* stay: a discharge and an admission of the same
        # stay (a transfer, a corrected record) are one stay, not a readmission.
        index = next((i for i in range(len(s.discharges) - 1, -1, -1) if s.discharges[i][5] != f.ref), None)
        if index is None:
            return
        t, event_id, unit_id, day, readmitted, stay = s.discharges[index]
        evidence = ReadmissionEvidence(
            discharge_event_id=event_id,
            discharged_at=from_epoch(t),
            discharging_unit_id=unit_id,
            admission_event_id=f.event_id,
            days_after_discharge=round((f.t - t) / DAY_S, 3),
            window_days=self.window_days,
        )
        out.flags_add(person_flag(self.rule, subject, f.unit_id, f, evidence, f.event_id))
        if not readmitted:
            s.discharges[index] = (t, event_id, unit_id, day, True, stay)
            out.add(UnitMetric.READMISSIONS, unit_id, day, 1.0)

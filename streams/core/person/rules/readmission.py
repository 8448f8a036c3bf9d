"""Readmission: an unplanned admission within `readmission_window_days` of a discharge.

The index discharge must be of another stay than the admission (`stay_id`). Every such admission
raises a flag (each is a care event worth a look); the unit's readmission rate
counts each index discharge once, on the discharging unit and day.
State: the discharges inside the window, each with whether it has been counted as readmitted.
"""

from __future__ import annotations

from typing import NamedTuple

from streams.core.config import MonitorConfig
from streams.core.person.fold import Emits, PersonFold, Seen
from streams.core.person.rules.base import PersonRule, person_flag
from streams.core.timebase import DAY_S, from_epoch
from streams.models.flags import ReadmissionEvidence
from streams.models.vocab import EventKind, Rule, UnitMetric


class Discharge(NamedTuple):
    t: int
    event_id: str
    unit_id: str
    day: int
    stay_id: str
    readmitted: bool = False  # counted once in the discharging unit's readmissions


Discharges = tuple[Discharge, ...]


class Readmission(PersonRule[Discharges]):
    rule = Rule.READMISSION_30D
    kinds = frozenset({EventKind.ADMISSION, EventKind.DISCHARGE})

    def __init__(self, config: MonitorConfig) -> None:
        super().__init__(config)
        self.window_days = config.rules.readmission_window_days
        self._window_s = self.window_days * DAY_S

    @classmethod
    def initial(cls) -> Discharges:
        return ()

    def update(self, state: Discharges, fold: PersonFold, seen: Seen, subject: str, out: Emits) -> Discharges:
        f = seen.fact
        if f.kind == EventKind.DISCHARGE:
            return (*self._in_window(state, f.t), Discharge(f.t, f.event_id, f.unit_id, f.day, f.ref))
        if f.planned:
            return state
        state = self._in_window(state, f.t)
        # The index discharge is the latest of *another* stay: a discharge and an admission of the same
        # stay (a transfer, a corrected record) are one stay, not a readmission.
        index = next((i for i in range(len(state) - 1, -1, -1) if state[i].stay_id != f.ref), None)
        if index is None:
            return state
        d = state[index]
        evidence = ReadmissionEvidence(
            discharge_event_id=d.event_id,
            discharged_at=from_epoch(d.t),
            discharging_unit_id=d.unit_id,
            admission_event_id=f.event_id,
            days_after_discharge=round((f.t - d.t) / DAY_S, 3),
            window_days=self.window_days,
        )
        out.flag(person_flag(self.rule, subject, f.unit_id, f, evidence, f.event_id))
        if d.readmitted:
            return state
        out.contribute(UnitMetric.READMISSIONS, d.unit_id, d.day, 1.0)
        return (*state[:index], d._replace(readmitted=True), *state[index + 1:])

    def _in_window(self, state: Discharges, t: int) -> Discharges:
        if state and state[0].t < t - self._window_s:
            return tuple(d for d in state if d.t >= t - self._window_s)
        return state

    @classmethod
    def to_dict(cls, state: Discharges) -> object:
        return [list(d) if d.readmitted else list(d[:5]) for d in state]  # most: not readmitted

    @classmethod
    def from_dict(cls, data: object, version: int) -> Discharges:
        if version != cls.state_version:
            raise ValueError(f"unknown {cls.rule.value} state version {version!r}")
        assert isinstance(data, list)
        return tuple(Discharge(int(r[0]), str(r[1]), str(r[2]), int(r[3]), str(r[4]), len(r) > 5 and bool(r[5]))
                     for r in data)

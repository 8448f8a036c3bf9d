"""The whole monitor in one process: decode -> person -> unit -> organisation. What `replay` runs.

The arrival time of an event, which decides whether it is too late, is the running maximum of
`occurred_at` in arrival order (the stream's event-time clock), unless the caller passes one (the live
worker passes the Kafka record timestamp, which `publish` sets to the same clock).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from streams.core.config import MonitorConfig
from streams.core.decode import decode_event
from streams.core.indicators import UnitIndicators, unit_indicators
from streams.core.lateness import too_late
from streams.core.org import OrgDrift, OrgState
from streams.core.person import Outcome, PersonState
from streams.core.pseudonym import Pseudonymiser
from streams.core.stages import PersonStage, UnitStage, UnitUpdate, staffing_update
from streams.core.timebase import epoch
from streams.core.unit import UnitState
from streams.models.events import Staffing
from streams.models.flags import Flag, FlagStatus
from streams.models.rejections import Rejection, RejectReason


@dataclass(slots=True)
class Tally:
    read: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    by_type: Counter[str] = field(default_factory=Counter)
    flags_raised: Counter[str] = field(default_factory=Counter)
    flags_withdrawn: Counter[str] = field(default_factory=Counter)


@dataclass(slots=True)
class StepResult:
    rejection: Rejection | None = None
    duplicate: bool = False
    flags: list[Flag] = field(default_factory=list)


class Monitor:
    def __init__(self, config: MonitorConfig, pseudonymise: Pseudonymiser) -> None:
        self.config = config
        self.pseudonymise = pseudonymise
        self.person_stage = PersonStage(config)
        self.unit_stage = UnitStage(config)
        self.org_drift = OrgDrift(config)
        self.persons: dict[str, PersonState] = {}
        self.units: dict[str, UnitState] = {}
        self.org = OrgState()
        self.flags: dict[str, Flag] = {}
        self.tally = Tally()
        self.stream_clock = 0
        self._max_future = dt.timedelta(hours=config.max_future_hours)

    def process(self, raw: bytes | str, now: dt.datetime, *, arrival: int | None = None,
                source_offset: str | None = None) -> StepResult:
        self.tally.read += 1
        decoded = decode_event(raw, now, max_bytes=self.config.max_message_bytes,
                               max_future=self._max_future, source_offset=source_offset)
        if isinstance(decoded, Rejection):
            self.tally.rejected[decoded.reason.value] += 1
            return StepResult(rejection=decoded)
        if arrival is None:
            self.stream_clock = max(self.stream_clock, epoch(decoded.occurred_at))
            arrival = self.stream_clock

        flags: list[Flag] = []
        if isinstance(decoded, Staffing):
            update = staffing_update(decoded, arrival, self.config.timezone)
            outcome = self._to_unit(update, flags)
        else:
            subject = self.pseudonymise(decoded.person_id)
            state = self.persons.get(subject)
            if state is None:
                state = self.persons[subject] = PersonState()
            result = self.person_stage.handle(state, decoded, arrival, subject)
            outcome = result.outcome.value
            flags += result.flags
            for update in result.unit_updates:
                self._to_unit(update, flags)

        if outcome == Outcome.DUPLICATE:
            self.tally.duplicates += 1
            return StepResult(duplicate=True)
        if outcome == Outcome.TOO_LATE:
            self.tally.rejected[RejectReason.TOO_LATE.value] += 1
            return StepResult(rejection=too_late(self.config, arrival, decoded.event_id, source_offset))
        self.tally.accepted += 1
        self.tally.by_type[decoded.event_type] += 1
        self._record(flags)
        return StepResult(flags=flags)

    def _to_unit(self, update: UnitUpdate, flags: list[Flag]) -> str:
        state = self.units.get(update.unit_id)
        if state is None:
            state = self.units[update.unit_id] = UnitState(update.unit_id)
        result = self.unit_stage.handle(state, update)
        if result.summaries:
            flags += self.org_drift.apply(self.org, result.summaries)
        return result.staffing_outcome or Outcome.ACCEPTED.value

    def _record(self, flags: list[Flag]) -> None:
        for flag in flags:
            if flag.status is FlagStatus.WITHDRAWN:
                self.tally.flags_withdrawn[flag.rule.value] += 1
                self.flags.pop(flag.flag_id, None)
            else:
                if flag.flag_id not in self.flags:
                    self.tally.flags_raised[flag.rule.value] += 1
                self.flags[flag.flag_id] = flag

    def open_flags(self) -> list[Flag]:
        """The current flags (last record per id, withdrawn ones left out), in a stable order."""
        return sorted(self.flags.values(), key=lambda f: (f.raised_at, f.flag_id))

    def unit_indicators(self) -> list[UnitIndicators]:
        return [unit_indicators(self.units[u], self.config) for u in sorted(self.units)]

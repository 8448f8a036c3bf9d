"""A care unit's unplanned inpatient days are its occupied bed-days: each day an unplanned stay goes on counts
in the week it falls in, from the admission on (not all at once on the discharge day), in the unit that
admitted the person. A planned stay, or a discharge whose admission was never seen, adds none."""

from __future__ import annotations

import datetime as dt

import msgspec

from streams.agents.runtime.messages import DaySummaryBatch
from streams.core.config import DriftConfig, MonitorConfig
from streams.core.org.coverage import unit_monitoring
from streams.core.org.state import OrgState
from streams.core.org.weeks import CarePopulations, week_totals
from streams.core.timebase import week_of
from streams.core.unit.summary import DaySummary
from streams.models.vocab import UnitOutcome
from tests.helpers import DAY0, event, run

WEEK0 = week_of(DAY0.toordinal())  # DAY0 is a Monday


def _bed_days(org: OrgState | None, weeks: int) -> list[float]:
    assert org is not None
    populations = CarePopulations(org)
    return [week_totals(org, WEEK0 + w, populations).get("unit-a").inpatient_days  # type: ignore[union-attr]
            for w in range(weeks)]


def _clock(until: int) -> list[str]:
    """Another person's ED visits every other day: the unit's days settle and its weeks are read."""
    return [event("emergency_visit", d, person_id="pat-9", event_id=f"ed-{d}") for d in range(0, until, 2)]


def test_a_stay_counts_each_of_its_days_in_the_week_it_falls_in() -> None:
    lines = [
        # Unplanned, Wednesday to the next week's Saturday: 10 nights, 5 in each week.
        event("admission", 2, person_id="pat-1", stay_id="s1", event_id="a1"),
        event("discharge", 12, person_id="pat-1", stay_id="s1", event_id="x1"),
        # Planned: not an unplanned inpatient day.
        event("admission", 3, person_id="pat-2", stay_id="s2", planned=True, event_id="a2"),
        event("discharge", 5, person_id="pat-2", stay_id="s2", event_id="x2"),
        # Its admission before the history: its days are unknown, not counted.
        event("discharge", 4, person_id="pat-3", stay_id="s3", event_id="x3"),
        # Admitted and discharged the same day: one day.
        event("admission", 15, person_id="pat-4", stay_id="s4", event_id="a4"),
        event("discharge", 15, person_id="pat-4", stay_id="s4", event_id="x4"),
        *_clock(60),
    ]
    m = run(sorted(lines, key=lambda line: line.split('"occurred_at": ')[1]))
    assert _bed_days(m.org.care, 4) == [5.0, 5.0, 1.0, 0.0]


def test_a_stay_going_on_counts_from_its_admission_before_its_discharge_is_known() -> None:
    lines = [event("admission", 2, person_id="pat-1", stay_id="s1", event_id="a1"), *_clock(50)]
    m = run(sorted(lines, key=lambda line: line.split('"occurred_at": ')[1]))
    assert _bed_days(m.org.care, 5) == [5.0, 7.0, 7.0, 7.0, 7.0]
    # Its discharge, when it comes, ends it; the weeks before keep their days.
    discharged = run(sorted([*lines, event("discharge", 20, person_id="pat-1", stay_id="s1", event_id="x1")],
                            key=lambda line: line.split('"occurred_at": ')[1]))
    assert _bed_days(discharged.org.care, 5) == [5.0, 7.0, 6.0, 0.0, 0.0]


def test_a_state_written_before_beds_were_counted_takes_inpatient_days_as_incomplete_until_then() -> None:
    """Its days hold no beds: weeks of inpatient days before the upgrade are neither learned from nor
    tested (a re-evaluation would read them as empty), and the boards show them as building up."""
    m = run(sorted([event("admission", 2, person_id="pat-1", stay_id="s1", event_id="a1"), *_clock(50)],
                   key=lambda line: line.split('"occurred_at": ')[1]))
    written = m.org.to_dict()
    assert written["version"] == 4
    care = written["care"]
    assert isinstance(care, dict) and care["beds_from"] == 0
    for d in (written, care):
        d["version"] = 3
        del d["beds_from"]
        for series in d["series"].values():  # what version 3 wrote: eight figures a day
            for day, figures in series.items():
                series[day] = figures[:8]
    old = OrgState.from_dict(written)
    assert old.care is not None and old.care.beds_from == m.org.care.clock_day + 1  # type: ignore[union-attr]
    config = MonitorConfig(drift=DriftConfig(history_start=DAY0 - dt.timedelta(days=400)))
    states = {m.outcome: m for m in unit_monitoring(old, config) if m.unit_id == "unit-a"}
    assert states[UnitOutcome.INPATIENT_DAYS].complete_from > dt.date.fromordinal(old.care.beds_from - 1)
    assert states[UnitOutcome.ED_VISITS].complete_from < DAY0
    assert OrgState.from_dict(m.org.to_dict()).care.beds_from == 0  # type: ignore[union-attr]


def test_the_worker_ships_every_figure_of_a_unit_day_to_the_organisation_stage() -> None:
    """The unit stage sends its days to the organisation stage as a DaySummaryBatch: the beds go with
    them, and a day the release before sent (no beds) reads as none."""
    day = DaySummary("unit-a", 739000, 1.0, 2.0, 3, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0)
    sent = msgspec.json.encode(DaySummaryBatch([day]))
    assert msgspec.json.decode(sent, type=DaySummaryBatch).summaries == [day]
    before = sent.replace(b',"beds_change":9.0', b"")
    assert before != sent
    assert msgspec.json.decode(before, type=DaySummaryBatch).summaries == [
        DaySummary("unit-a", 739000, 1.0, 2.0, 3, 4.0, 5.0, 6.0, 7.0, 8.0)]

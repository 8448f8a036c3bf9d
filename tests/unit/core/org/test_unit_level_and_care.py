"""Issue 14: a unit above its peers all along is level-flagged (and one at their level is not), and care
units are monitored too: a care unit whose readmission rate doubles is flagged, its evidence in
readmissions per 100 discharges, whether its readmissions are known at once or weeks later."""

from __future__ import annotations

import json
import random

from streams.core.config import MonitorConfig
from streams.core.org.drift import OrgDrift
from streams.core.org.state import OrgState
from streams.core.timebase import week_days, week_of, zone
from streams.core.unit.summary import DaySummary
from streams.models import DriftEvidence, Flag
from streams.models.vocab import Rule
from tests.helpers import poisson
from tests.unit.core.org.test_drift_overdispersion import FIRST_WEEK, STAFF, UNITS, WEEKS, history, run


def test_a_unit_at_2_5x_its_peers_for_a_year_is_level_flagged_once_and_one_at_their_level_is_not() -> None:
    flags, state = run(history(seed=7, step={"u2": (0, 2.5)})[: 52 * 7 * len(UNITS)])
    level = [f for f in flags if f.rule == Rule.UNIT_SICK_LEAVE_LEVEL]
    assert [f.subject_id for f in level] == ["u2"]  # raised once, kept while it holds; no peer flagged
    ev = level[0].evidence
    assert isinstance(ev, DriftEvidence) and ev.test == "level"
    assert ev.current_interval.low > 1.25 and ev.baseline_ratio == 1.0  # clearly above the peers' level
    assert ev.unit_rate is not None and ev.peer_rate is not None and ev.unit_rate > 2 * ev.peer_rate
    assert ev.rate_unit == "sick-leave occasions per employee and year"
    assert 10 <= len(ev.weeks) <= 13 and ev.headcount == STAFF  # the quarter it rests on
    # A quarter after the warm-up at the latest
    assert ev.window_end.toordinal() <= week_days(FIRST_WEEK + 12 + 13)[-1]
    # Its drift baseline was learned at its own high level: it is the level flag that finds it.
    assert not [f for f in flags if f.rule == Rule.UNIT_SICK_LEAVE_DRIFT and f.subject_id == "u2"]


def test_the_evidence_of_a_step_shows_the_steps_weeks_above_the_usual_level() -> None:
    onset = 60
    flags, _ = run(history(seed=7, step={"u4": (onset, 2.5)}))
    (drift,) = [f for f in flags if f.rule == Rule.UNIT_SICK_LEAVE_DRIFT]
    ev = drift.evidence
    assert isinstance(ev, DriftEvidence) and ev.weeks
    assert ev.weeks[0].week_start == ev.window_start and ev.weeks[-1].week_start.toordinal() + 6 == \
        ev.window_end.toordinal()
    after = [w for w in ev.weeks if week_of(w.week_start.toordinal()) >= FIRST_WEEK + onset]
    assert after and sum(w.observed for w in after) > sum(w.expected for w in after)
    assert ev.unit_rate is not None and ev.peer_rate is not None and ev.unit_rate > ev.peer_rate


# -- care units -----------------------------------------------------------------------------------

CARE = [f"care-{i}" for i in range(8)]
IN_CARE = 1000
DISCHARGES_PER_PERSON_YEAR = 0.8
READMITTED = 0.15
ONSET_WEEK = 52
LAG_WEEKS = 5  # a readmission is known up to 30 days after its index discharge


def care_history(seed: int, doubled: str | None) -> tuple[list[list[DaySummary]], list[list[DaySummary]]]:
    """Weekly batches of care units' days, two ways: each week's readmissions known at once, and known
    only LAG_WEEKS later (the day sent first without them, then again with them, as the unit stage does)."""
    rng = random.Random(seed)
    at_once, late = [], []
    days: dict[int, list[DaySummary]] = {}
    for w in range(WEEKS):
        week = []
        for unit in CARE:
            p = READMITTED * (2.0 if unit == doubled and w >= ONSET_WEEK else 1.0)
            for day in week_days(FIRST_WEEK + w):
                discharges = poisson(rng, IN_CARE * DISCHARGES_PER_PERSON_YEAR / 365)
                readmissions = sum(rng.random() < p for _ in range(discharges))
                week.append(DaySummary(unit, day, 0.0, 0.0, 0, ed_visits=float(poisson(rng, IN_CARE * 0.5 / 365)),
                                       readmissions=float(readmissions), discharges=float(discharges),
                                       inpatient_days=float(discharges * rng.randint(2, 9)),
                                       care_change=float(IN_CARE) if w == 0 and day == week_days(FIRST_WEEK)[0]
                                       else 0.0))
        days[w] = week
        at_once.append(week)
        first_sent = [DaySummary(s.unit_id, s.day, 0.0, 0.0, 0, s.ed_visits, 0.0, s.discharges, s.inpatient_days,
                                 s.care_change) for s in week]
        late.append(first_sent + (days[w - LAG_WEEKS] if w >= LAG_WEEKS else []))
    return at_once, late


SIZES: list[int] = []  # the organisation's state as the worker writes it (one table record), after each run


def final_flags(batches: list[list[DaySummary]]) -> dict[str, str]:
    drift, state, store = OrgDrift(MonitorConfig()), OrgState(), {}
    for i, batch in enumerate(batches + [[DaySummary(CARE[0], week_days(FIRST_WEEK + WEEKS + LAG_WEEKS)[0], 0.0,
                                                     0.0, 0, discharges=1.0)]]):
        for f in drift.apply(state, batch):
            if f.status.value == "withdrawn":
                store.pop(f.flag_id, None)
            else:
                store[f.flag_id] = f.model_dump_json()
        if i == 40:  # the state survives JSON mid-history
            state = OrgState.from_dict(json.loads(json.dumps(state.to_dict(), allow_nan=False)))
    SIZES.append(len(json.dumps(state.to_dict(), separators=(",", ":"))))
    return store


def test_a_care_unit_whose_readmission_rate_doubles_is_flagged_with_rates_per_discharge() -> None:
    at_once, late = care_history(seed=3, doubled="care-5")
    flags = [Flag.model_validate_json(f) for f in final_flags(at_once).values()]
    drift = [f for f in flags if f.rule == Rule.UNIT_READMISSIONS_DRIFT]
    assert [f.subject_id for f in drift] == ["care-5"]
    assert {f.subject_id for f in flags} == {"care-5"}  # and no other care unit flagged, for anything
    ev = drift[0].evidence
    assert isinstance(ev, DriftEvidence) and ev.outcome == "readmissions" and ev.signal == "readmissions"
    onset = week_days(FIRST_WEEK + ONSET_WEEK)[0]
    assert onset <= ev.window_end.toordinal() <= onset + 26 * 7  # within half a year of the doubling
    after = [w for w in ev.weeks if w.week_start.toordinal() >= onset]
    assert after and sum(w.observed for w in after) > 1.5 * sum(w.expected for w in after)
    assert ev.rate_unit == "unplanned readmissions within 30 days per 100 discharges"
    assert ev.unit_rate is not None and ev.peer_rate is not None
    assert 10 < ev.peer_rate < 20 and ev.unit_rate > ev.peer_rate  # per 100 discharges, peers ~15
    assert ev.headcount == IN_CARE  # the persons in the unit's care
    # raised once the follow-up of the window's last week was complete, not before
    raised = drift[0].raised_at.astimezone(zone("Europe/Stockholm")).date()
    assert raised.toordinal() == ev.window_end.toordinal() + 31
    # Readmissions known only weeks later give the very same flags.
    assert final_flags(late) == final_flags(at_once)


def test_workplaces_and_care_units_are_peer_groups_of_their_own() -> None:
    """A care unit is compared with care units, a workplace with workplaces: each group's flags are the
    same whether the other group is there or not."""
    care, _ = care_history(seed=3, doubled="care-5")
    by_week: dict[int, list[DaySummary]] = {}
    for row in history(seed=7, step={"u4": (60, 2.5)}):
        by_week.setdefault(week_of(row.day) - FIRST_WEEK, []).append(row)
    hr = [by_week.get(w, []) for w in range(WEEKS)]
    alone = {**final_flags(care), **final_flags(hr)}
    assert {Flag.model_validate_json(f).subject_id for f in alone.values()} >= {"care-5", "u4"}
    assert final_flags([c + h for c, h in zip(care, hr, strict=True)]) == alone
    # Ten workplaces and eight care units over two years: 0.77 MB (a snapshot of the units every 8 weeks;
    # every week's made it 1.9 MB). The worker writes a state over 512 KiB in chunks (test_batch_states).
    assert SIZES[-1] < 900_000


def test_a_care_day_whose_figures_become_zero_replaces_what_was_sent_before() -> None:
    """A person's care event retracted (or a leaving and a return the same day, sent apart): the unit
    stage re-sends the day with nothing in it, and the result is as if the day had never counted."""
    care, _ = care_history(seed=3, doubled="care-5")
    # care-9: a small unit heard from every week (a unit silent for long holds its peers' evaluation back)
    care = [[*batch, DaySummary("care-9", week_days(FIRST_WEEK + w)[3], 0.0, 0.0, 0, ed_visits=1.0)]
            for w, batch in enumerate(care)]
    day = week_days(FIRST_WEEK + 30)[0]
    entered = DaySummary("care-9", day, 0.0, 0.0, 0, care_change=500.0)  # e.g. a register loaded in error
    taken_back = DaySummary("care-9", day, 0.0, 0.0, 0)
    blip = [[*batch, entered] if w == 30 else [*batch, taken_back] if w == 33 else batch
            for w, batch in enumerate(care)]
    assert final_flags(care)
    assert final_flags(blip) == final_flags(care)

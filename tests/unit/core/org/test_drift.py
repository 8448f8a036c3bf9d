"""Unit drift: a rise common to all units is not a unit problem; a unit's own rise is flagged once."""

from __future__ import annotations

import math
import random

from streams.core.config import DriftConfig, MonitorConfig
from streams.core.org.drift import OrgDrift
from streams.core.org.state import OrgState
from streams.core.timebase import week_days, week_of
from streams.core.unit.summary import DaySummary
from streams.models import DriftEvidence, Flag
from streams.models.vocab import Rule, UnitOutcome
from tests.helpers import poisson

UNITS = [f"u{i}" for i in range(8)]
HEADCOUNT = 40
BASE = 0.011  # occasions per employee and day
FIRST_WEEK = 105_000


def feed(factor: dict[str, list[float]], weeks: int, seed: int = 1, config: MonitorConfig | None = None
         ) -> list[Flag]:
    """Run the drift stage over `weeks` weeks; factor[unit][week] multiplies that unit's rate."""
    rng = random.Random(seed)
    drift = OrgDrift(config or MonitorConfig())
    state = OrgState()
    flags: list[Flag] = []
    for w in range(weeks):
        summaries = []
        for unit in UNITS:
            for day in week_days(FIRST_WEEK + w):
                occ = poisson(rng, HEADCOUNT * BASE * factor[unit][w])
                summaries.append(DaySummary(unit, day, float(occ), float(occ), HEADCOUNT))
        flags += drift.apply(state, summaries)
    flags += drift.apply(state, [DaySummary(UNITS[0], week_days(FIRST_WEEK + weeks)[0], 0, 0, HEADCOUNT)])
    return flags


def drift_flags(flags: list[Flag]) -> list[Flag]:
    """The drift flags (a unit far above its peers for a quarter also gets a level flag: test_unit_level)."""
    return [f for f in flags if f.rule == Rule.UNIT_SICK_LEAVE_DRIFT]


def flu(w: int) -> float:
    return 1 + 1.5 * math.exp(-0.5 * ((w - 20) / 3) ** 2)


def test_a_flu_season_common_to_all_units_raises_no_flag() -> None:
    factor = {u: [flu(w) for w in range(40)] for u in UNITS}
    assert feed(factor, 40) == []


def test_a_unit_whose_rate_doubles_is_flagged_once_with_evidence() -> None:
    factor = {u: [flu(w) for w in range(40)] for u in UNITS}
    factor["u3"] = [flu(w) * (2.5 if w >= 24 else 1.0) for w in range(40)]
    flags = drift_flags(feed(factor, 40))
    assert [f.subject_id for f in flags] == ["u3"]
    flag = flags[0]
    assert flag.subject_kind == "unit" and flag.unit_id == "u3"
    ev = flag.evidence
    assert isinstance(ev, DriftEvidence)
    onset = week_days(FIRST_WEEK + 24)[0]
    assert ev.window_start.toordinal() >= onset  # not before the onset
    assert ev.window_end.toordinal() <= onset + 8 * 7  # and within eight weeks
    assert ev.current_interval.low <= ev.current_ratio <= ev.current_interval.high
    assert ev.current_ratio > ev.baseline_ratio
    assert ev.statistic > ev.threshold


def test_no_flag_during_the_warm_up_however_high() -> None:
    factor = {u: [1.0] * 12 for u in UNITS}
    factor["u1"] = [4.0] * 12
    assert drift_flags(feed(factor, 12, config=MonitorConfig(drift=DriftConfig(warmup_weeks=12)))) == []


def test_the_detector_is_swappable_by_configuration() -> None:
    factor = {u: [1.0] * 40 for u in UNITS}
    factor["u3"] = [1.0 if w < 20 else 3.0 for w in range(40)]
    config = MonitorConfig(drift=DriftConfig(detector="page_hinkley"))
    flags = drift_flags(feed(factor, 40, config=config))
    (u3,) = [f for f in flags if f.subject_id == "u3"]
    assert isinstance(u3.evidence, DriftEvidence) and u3.evidence.detector == "page_hinkley"


def _store(changes: list[Flag], store: dict[str, Flag]) -> None:
    for f in changes:
        if f.status.value == "withdrawn":
            store.pop(f.flag_id, None)
        else:
            store[f.flag_id] = f


def test_a_unit_whose_data_arrives_after_the_others_gives_the_same_flags() -> None:
    """Partitions run at different speeds: a unit's summaries may come after the rest were evaluated."""
    rng = random.Random(4)
    weeks = 36
    rows = []
    for w in range(-4, weeks):  # u7's history starts four weeks before the others'
        for unit in UNITS if w >= 0 else ["u6", "u7"]:
            factor = 2.5 if unit == "u3" and w >= 20 else 1.0
            for day in week_days(FIRST_WEEK + w):
                occ = poisson(rng, HEADCOUNT * BASE * factor)
                rows.append(DaySummary(unit, day, float(occ), float(occ), HEADCOUNT))
    tail = DaySummary(UNITS[0], week_days(FIRST_WEEK + weeks)[0], 0, 0, HEADCOUNT)

    def final(order: list[list[DaySummary]]) -> tuple[dict[str, str], dict[str, object]]:
        drift, state, store = OrgDrift(MonitorConfig()), OrgState(), {}
        for chunk in order:
            _store(drift.apply(state, chunk), store)
        units = state.units(UnitOutcome.SICK_LEAVE)
        return {k: v.model_dump_json() for k, v in store.items()}, {u: d.to_dict() for u, d in units.items()}

    in_order = final([[r for r in rows if week_of(r.day) == FIRST_WEEK + w] for w in range(-4, weeks)] + [[tail]])
    others = [r for r in rows if r.unit_id not in ("u6", "u7")]
    skewed = final([others[i:i + 500] for i in range(0, len(others), 500)]
                   + [[tail], [r for r in rows if r.unit_id in ("u6", "u7")]])
    assert in_order[0], "the scenario must raise a flag"
    assert skewed == in_order

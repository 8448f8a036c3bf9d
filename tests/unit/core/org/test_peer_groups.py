"""Peer groups: a unit is compared with the units of its own organisation (the `organisation` its events
name), so two organisations in one stream fare as each would alone; with no organisation named, every unit
is in the one default group, as before there were groups."""

from __future__ import annotations

import json

from streams.core.org.groups import DEFAULT_GROUP, by_group, group_of
from streams.core.org.levels import relative_levels
from streams.core.timebase import epoch
from streams.core.unit.summary import DaySummary
from streams.models.flags import Flag
from streams.models.rejections import Rejection
from streams.models.vocab import Rule
from streams.simulators.simulation import Scenario, generate
from tests.helpers import NOW, monitor, run, sick

NORTH, SOUTH = "212000-0142", "212000-1355"  # two municipalities' organisationsnummer


def _history() -> list[str]:
    """Six workplaces, one drifting; hr-unit-00..02 of NORTH (every event names it), hr-unit-03..05 of
    SOUTH (only its staffing reports name it: a unit learns its organisation from any of its events)."""
    scenario = Scenario(seed=21, days=200, units=6, care_persons=0, drift_unit=1, drift_onset_day=110,
                        drift_factor=3.0)
    out = []
    for _, line in generate(scenario):
        doc = json.loads(line) if line.startswith("{") else None
        if isinstance(doc, dict) and isinstance(doc.get("unit_id"), str):
            north = doc["unit_id"] < "hr-unit-03"
            if north or doc["event_type"] == "staffing":
                line = json.dumps({**doc, "organisation": NORTH if north else SOUTH})
        out.append(line)
    return out


def _of(lines: list[str], organisation: str) -> list[str]:
    """The lines of one organisation's units (a person works in one unit here)."""
    north = organisation == NORTH
    return [line for line in lines if line.startswith("{") and (json.loads(line)["unit_id"] < "hr-unit-03") == north]


def _flags(flags: list[Flag]) -> dict[str, str]:
    return {f.flag_id: f.model_dump_json() for f in flags}


def test_each_organisations_units_are_peers_of_each_other_only() -> None:
    lines = _history()
    both = run(lines)
    assert set(both.groups) == {group_of(NORTH), group_of(SOUTH)}
    assert set(both.groups[group_of(NORTH)].series) == {"hr-unit-00", "hr-unit-01", "hr-unit-02"}
    assert set(both.groups[group_of(SOUTH)].series) == {"hr-unit-03", "hr-unit-04", "hr-unit-05"}
    north, south = run(_of(lines, NORTH)), run(_of(lines, SOUTH))
    # Every flag (the drifting unit's, the persons') and every level ratio is the one its organisation alone gives.
    assert any(f.rule is Rule.UNIT_SICK_LEAVE_DRIFT for f in north.open_flags())
    assert _flags(both.open_flags()) == {**_flags(north.open_flags()), **_flags(south.open_flags())}
    assert [json.dumps(r.__repr__()) for g in (NORTH, SOUTH)
            for r in relative_levels(both.groups[group_of(g)], 1)] == \
        [json.dumps(r.__repr__()) for m in (north, south) for g in m.groups.values() for r in relative_levels(g, 1)]
    # With no organisation named, the same history is one group: the default one.
    plain = run([line for _, line in generate(Scenario(seed=21, days=200, units=6, care_persons=0, drift_unit=1,
                                                        drift_onset_day=110, drift_factor=3.0))])
    assert set(plain.groups) == {DEFAULT_GROUP} and len(plain.org.series) == 6


def test_summaries_go_to_their_organisations_group_in_their_order() -> None:
    a = DaySummary("u-1", 1, 1.0, 1.0, 20, organisation=NORTH)
    b = DaySummary("u-2", 1, 1.0, 1.0, 20)
    c = DaySummary("u-1", 2, 1.0, 1.0, 20, organisation=NORTH)
    assert by_group([a, b, c]) == {group_of(NORTH): [a, c], DEFAULT_GROUP: [b]}
    # the default group keeps the key the one organisation state had, so a state stored under it is read
    assert DEFAULT_GROUP == "org" and group_of(None) == DEFAULT_GROUP


def test_the_peers_decide_the_level_ratios() -> None:
    """Not vacuous: the same units as one group (no organisation named) get other ratios."""
    lines = _history()
    both = run(lines)
    plain = run([line for _, line in generate(Scenario(seed=21, days=200, units=6, care_persons=0, drift_unit=1,
                                                        drift_onset_day=110, drift_factor=3.0))])
    grouped = {r.unit_id: r.ratio for g in both.groups.values() for r in relative_levels(g, 1)}
    alone = {r.unit_id: r.ratio for r in relative_levels(plain.org, 1)}
    assert set(grouped) == set(alone) and grouped != alone


def test_a_report_that_changes_none_of_its_units_days_sends_the_unit_nothing_though_it_names_an_organisation() -> None:
    m = monitor()

    def unit_updates(line: str) -> list[tuple[str, str | None]]:
        event = m.admit.decode(line, NOW, None, m.counts)
        assert not isinstance(event, Rejection)
        side = m.person_side(event, epoch(event.occurred_at), None)
        m.unit_side(side, None)
        return [(u.unit_id, u.organisation) for u in side.unit_updates]

    assert unit_updates(sick(0, unit_id="w1", organisation=NORTH)) == [("w1", NORTH)]
    # The same day reported again: nothing of the unit's changes, so nothing goes to it.
    assert unit_updates(sick(0, unit_id="w1", organisation=NORTH, hour=12)) == []
    assert unit_updates(sick(3, unit_id="w1", organisation=NORTH)) == [("w1", NORTH)]
    assert m.units["w1"].organisation == NORTH

"""The unit stage recognises updates re-sent after a worker restart, however far event time has moved."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import given
from hypothesis import strategies as st

from streams.core.config import MonitorConfig
from streams.core.stages import UnitStage, UnitUpdate
from streams.core.unit.tracker import DAY_BITS, UnitState

DAY = 739_000


def test_a_re_sent_update_is_dropped_even_after_months_of_event_time() -> None:
    stage = UnitStage(MonitorConfig())
    state = UnitState("hr-a")
    first = UnitUpdate("hr-a", "p_x", 1, [("occasions", DAY, 1.0), ("sick_days", DAY, 1.0)])
    stage.handle(state, first)
    # A backlog: other people's updates move the unit's clock on by 120 days...
    for i in range(120):
        stage.handle(state, UnitUpdate("hr-a", f"p_{i}", 1, [("sick_days", DAY + i + 1, 1.0)]))
    # ...before the restarted worker's re-sent copy of the first update arrives.
    result = stage.handle(state, first)
    assert result.outcome == "duplicate"
    assert state.total("occasions", DAY, DAY) == 1.0


def test_a_new_update_from_the_same_person_is_applied() -> None:
    stage = UnitStage(MonitorConfig())
    state = UnitState("hr-a")
    stage.handle(state, UnitUpdate("hr-a", "p_x", 1, [("occasions", DAY, 1.0)]))
    stage.handle(state, UnitUpdate("hr-a", "p_x", 2, [("occasions", DAY + 1, 1.0)]))
    assert state.total("occasions", DAY, DAY + 1) == 2.0


@given(seq=st.integers(1, 10**12), day=st.integers(0, dt.date(9999, 12, 31).toordinal()))
def test_what_a_unit_remembers_of_a_person_survives_storing_and_restoring(seq: int, day: int) -> None:
    stage = UnitStage(MonitorConfig())
    state = UnitState("hr-a")
    update = UnitUpdate("hr-a", "p_x", seq, [("occasions", day, 1.0)])
    stage.handle(state, update)
    stored = json.loads(json.dumps(state.to_dict()))
    assert stored["last_seq"] == {"p_x": seq << DAY_BITS | day}
    restored = UnitState.from_dict(stored)
    assert restored.to_dict() == state.to_dict()
    assert stage.handle(restored, update).outcome == "duplicate"
    assert stage.handle(restored, UnitUpdate("hr-a", "p_x", seq + 1, [("occasions", day, 1.0)])).outcome \
        != "duplicate"
    assert restored.total("occasions", day, day) == 2.0


def test_a_unit_state_stored_by_version_1_loads_as_it_was() -> None:
    """Version 1 stored what a unit remembers of a person as [seq, day]; version 2 stores the packed int."""
    stage = UnitStage(MonitorConfig())
    state = UnitState("hr-a")
    stage.handle(state, UnitUpdate("hr-a", "p_x", 7, [("occasions", 739_000, 1.0)]))
    stage.handle(state, UnitUpdate("hr-a", "p_y", 3, [("sick_days", 739_002, 1.0)]))
    v1 = {**state.to_dict(), "version": 1, "last_seq": {"p_x": [7, 739_000], "p_y": [3, 739_002]}}
    restored = UnitState.from_dict(json.loads(json.dumps(v1)))
    assert restored.to_dict() == state.to_dict()
    assert (restored.applied_seq("p_x"), restored.applied_seq("p_y")) == (7, 3)
    assert stage.handle(restored, UnitUpdate("hr-a", "p_x", 7, [("occasions", 739_000, 1.0)])).outcome \
        == "duplicate"

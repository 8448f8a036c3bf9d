"""/health's stall verdict is drawn from observed positions and broker ends only: a partition is stalled
when records were waiting `after_s` seconds of observation ago and its position has not moved since."""

from __future__ import annotations

from types import SimpleNamespace

from streams.agents.runtime.health import StallWatch, problems
from streams.agents.runtime.stage_work import AgentStats

KEY = ("persons", 3)


def observed(watch: StallWatch, *steps: tuple[float, int, int]) -> dict[tuple[str, int], tuple[int, int, float]]:
    for now, position, end in steps:
        watch.observe({KEY: (position, end)}, now)
    return watch.stalled()


def test_a_position_standing_with_records_waiting_for_the_whole_window_is_stalled() -> None:
    assert observed(StallWatch(60), (0, 10, 50), (30, 10, 80), (60, 10, 90)) == {KEY: (10, 90, 60)}


def test_a_position_that_moves_is_not_stalled_however_long_the_backlog() -> None:
    assert observed(StallWatch(60), *[(t, t, 10_000) for t in range(0, 600, 5)]) == {}


def test_a_partition_with_nothing_waiting_is_not_stalled_and_the_window_starts_when_records_arrive() -> None:
    watch = StallWatch(60)
    assert observed(watch, (0, 10, 10), (100, 10, 10), (120, 10, 11)) == {}
    assert observed(watch, (179, 10, 11)) == {}  # waiting since 120, not since 0
    assert observed(watch, (180, 10, 11)) == {KEY: (10, 11, 60)}


def test_a_partition_taken_away_is_forgotten() -> None:
    watch = StallWatch(60)
    observed(watch, (0, 10, 20), (60, 10, 20))
    watch.observe({}, 61)
    assert watch.stalled() == {}
    assert observed(watch, (62, 10, 20)) == {}  # assigned again: observed afresh


def test_problems_name_the_stage_topic_and_partition_of_a_stall() -> None:
    watch = StallWatch(60)
    observed(watch, (0, 10, 20), (60, 10, 20))
    stage = SimpleNamespace(topic="x.person-events", stats=AgentStats())
    found = problems({"persons": stage}, {"persons": [3]}, watch)
    assert [x.as_dict() | {"why": x.why.split(":")[0]} for x in found] == [
        {"stage": "persons", "topic": "x.person-events", "partition": 3, "why": "stalled"}]
    assert problems({"persons": stage}, {"persons": [0]}, watch) == []  # not assigned here

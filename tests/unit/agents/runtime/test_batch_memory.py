"""Memory a worker keeps. A batch's outputs are freed as soon as the batch is through: no reference cycle
ties them together, so the worker never waits for the cyclic garbage collector (whose full runs paused
the event loop for up to 300 ms each and were the largest share of the p99 event->flag latency). Caches
are bounded well below the population, and a unit keeps one string per person."""

from __future__ import annotations

import gc
import json
import weakref

from streams.agents.runtime.outputs import MetricCounts, Outputs
from streams.core import pseudonym
from streams.core.config import MonitorConfig
from streams.core.stages import UnitStage, UnitUpdate
from streams.core.unit.tracker import UnitState
from streams.observe.metrics import Metrics
from tests.helpers import event, run, sick_days


def test_a_batch_of_outputs_is_freed_without_the_cyclic_collector() -> None:
    metrics = Metrics()
    gc.collect()
    gc.disable()
    try:
        out = Outputs()
        counts = MetricCounts(metrics, out)
        counts.accepted("sick_leave", 1_700_000_000, 1_700_000_100)
        counts.duplicate()
        counts.resent()
        out.outbox("topic", "events", 8).add("key", '{"a":1}')
        out.count()
        gone = weakref.ref(out)
        del out, counts
        assert gone() is None, "the batch's outputs are kept alive by a reference cycle"
    finally:
        gc.enable()
    assert metrics.events_consumed.labels("sick_leave")._value.get() == 1


def test_the_core_leaves_no_cyclic_garbage() -> None:
    lines = [event("staffing", 0, headcount=12, unit_id="hr-a")]
    lines += sick_days([0, 30, 60, 90, 120, 150, 151], "emp-1", unit_id="hr-a")  # six occasions: a flag
    lines += sick_days(list(range(200, 240)), "emp-2", unit_id="hr-a")  # a long one: a flag
    gc.collect()
    gc.disable()
    try:
        monitor = run(lines)
        assert monitor.flags, "the stream raises a flag (so the test walks the rules' outputs too)"
        del monitor
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_the_pseudonymiser_remembers_a_bounded_number_of_persons_and_answers_the_same_after() -> None:
    p = pseudonym.Pseudonymiser(b"a-key-of-sixteen-bytes-or-more")
    first = p("199001011234")
    for i in range(pseudonym.CACHED + 5):
        p(f"emp-{i}")
    assert len(p._cache) <= pseudonym.CACHED
    assert p("199001011234") == first == pseudonym.Pseudonymiser(b"a-key-of-sixteen-bytes-or-more")("199001011234")


def test_a_unit_keeps_one_string_per_person_whether_live_or_restored() -> None:
    stage = UnitStage(MonitorConfig())
    state = UnitState("care-a")
    # as the worker decodes an update: the source and the presence entry are two equal strings
    source, present = "p_" + "ab" * 16, "".join(["p_", "ab" * 16])
    assert source is not present
    stage.handle(state, UnitUpdate("care-a", source, 1, [("ed_visits", 739_000, 1.0)], [(present, 739_000)]))
    restored = UnitState.from_dict(json.loads(json.dumps(state.to_dict())))
    for unit in (state, restored):
        (in_population,), (in_last_seq,) = unit.population, unit.last_seq
        assert in_population is in_last_seq


def test_a_batchs_accepted_events_are_counted_once_it_is_through_by_type_late_and_age() -> None:
    metrics = Metrics()
    out = Outputs()
    counts = MetricCounts(metrics, out)
    day = 86_400
    counts.accepted("sick_leave", 1_700_000_000, 1_700_000_100)
    counts.accepted("sick_leave", 1_700_000_000, 1_700_000_000 + 2 * day)  # came two days late
    counts.accepted("ed_visit", 1_700_000_000, 1_700_000_050)
    assert metrics.events_consumed.labels("sick_leave")._value.get() == 0  # not before the batch is through
    out.count()
    assert metrics.events_consumed.labels("sick_leave")._value.get() == 2
    assert metrics.events_consumed.labels("ed_visit")._value.get() == 1
    assert metrics.events_late.labels("sick_leave")._value.get() == 1
    assert metrics.events_late.labels("ed_visit")._value.get() == 0
    ages = {s.name: s.value for s in metrics.event_age.collect()[0].samples if s.labels.get("type") == "sick_leave"}
    assert ages["outcome_event_age_seconds_count"] == 2

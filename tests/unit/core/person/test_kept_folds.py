"""The tracker keeps the fold after each pending fact (a cache, never written) and starts again from it when
facts settle or a late fact comes. A kept fold is never changed afterwards, each is the fold from scratch
over the facts before it, and what goes out is what folding from scratch concludes: with late arrivals,
retractions, exact and conflicting duplicates, with the cache dropped before every fact, and with the
state written and read back mid-stream."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from msgspec.structs import replace

from streams.core.config import MonitorConfig, RuleConfig
from streams.core.person.facts import Fact
from streams.core.person.fold import ContribKey, Emits, PersonFold
from streams.core.person.folder import Folder
from streams.core.person.rules import RULES_BY_NAME
from streams.core.person.tracker import Changes, Outcome, PersonState, PersonTracker, Retracted
from streams.models.flags import Flag, FlagStatus
from streams.models.vocab import EventKind

DAY = 86400
T0 = 1_735_689_600  # 2025-01-01T00:00Z
SUBJECT = "p_subject"
# Low thresholds and a short lateness: a month of one person's facts raises flags, settles facts and
# turns some away as too late.
CONFIG = MonitorConfig(
    allowed_lateness_days=3,
    rules=RuleConfig(repeated_sick_leave_occasions=3, long_sick_leave_days=4, occasion_gap_days=1,
                     frequent_emergency_visits=2, frequent_emergency_window_days=20, readmission_window_days=10),
)
LATENESS = CONFIG.allowed_lateness_s

Arrival = tuple[int, Fact]


@st.composite
def arrivals(draw: st.DrawFn) -> list[Arrival]:
    """A month of one person's facts, each arriving after a delay (a few beyond the allowed lateness),
    with retractions of some, and some ids sent again, as they were or with other content."""
    sent: list[Arrival] = []
    for n in range(draw(st.integers(1, 45))):
        t = T0 + draw(st.integers(0, 30)) * DAY + draw(st.sampled_from([8, 8, 13, 20])) * 3600
        delay = draw(st.sampled_from([0, 0, 0, 3600, DAY, 2 * DAY, LATENESS - 1, LATENESS + DAY]))
        unit = draw(st.sampled_from(["unit-a", "unit-b"]))
        what = draw(st.sampled_from(["sick", "sick", "sick", "ed", "stay", "stay", "home", "retract", "again",
                                     "conflict"]))
        fact: Fact | None = None
        if what == "sick":
            fact = Fact(t, f"s{n}", EventKind.SICK_LEAVE, unit, t // DAY, value=draw(st.sampled_from([0.5, 1.0])))
        elif what == "ed":
            fact = Fact(t, f"d{n}", EventKind.EMERGENCY_VISIT, unit, t // DAY)
        elif what == "stay":
            stay = draw(st.sampled_from(["stay-1", "stay-1", "stay-2", f"stay-{n}"]))
            kind = draw(st.sampled_from([EventKind.ADMISSION, EventKind.DISCHARGE]))
            fact = Fact(t, f"a{n}", kind, unit, t // DAY, planned=draw(st.booleans()), ref=stay)
        elif what == "home":
            fact = Fact(t, f"h{n}", EventKind.HOME_CARE_CONTACT, unit, t // DAY, value=30.0,
                        planned=draw(st.booleans()))
        elif sent:
            _, earlier = draw(st.sampled_from(sent))
            if what == "retract":  # occurs after the fact it takes back
                t = max(t, earlier.t)
                fact = Fact(t, f"r{n}", EventKind.RETRACTION, unit, t // DAY, value=float(earlier.t),
                            ref=earlier.event_id)
            elif what == "again":
                fact = earlier
            else:  # the same id with other content
                fact = replace(earlier, t=earlier.t + 3600, day=(earlier.t + 3600) // DAY)
        if fact is not None:
            sent.append((fact.t + delay, fact))
    return sorted(sent, key=lambda a: a[0])  # in order of arrival (stable: the order sent within a moment)


def scratch(facts: list[Fact], out: Emits | None = None) -> PersonFold:
    """The fold over `facts` in event-time order, from a new fold."""
    folder, fold = Folder(CONFIG), PersonFold()
    for f in sorted(facts):
        folder.fold(fold, f, SUBJECT, out if out is not None else Emits(discard=True))
    return fold


def written(fold: PersonFold) -> str:
    return json.dumps(fold.to_dict(RULES_BY_NAME), sort_keys=True)


@dataclass
class Run:
    """Every step's changes as they would go out (late facts folded in at once, as the person stage
    does), and the facts in effect as a model of the tracker sees them."""

    steps: list[tuple[str, list[str], dict[ContribKey, float]]] = field(default_factory=list)
    live: dict[str, Fact] = field(default_factory=dict)


def step(tracker: PersonTracker, state: PersonState, arrival: int, fact: Fact, run: Run) -> None:
    was_pending = any(f.event_id == fact.event_id for f in state.pending)
    changes = tracker.take(state, fact, arrival, SUBJECT)
    outs: list[Changes] = [changes]
    if state.late_from is not None:  # as the person stage does after a late fact
        outs.append(tracker.fold_late(state, SUBJECT))
    for c in outs:
        run.steps.append((c.outcome.value, [f.model_dump_json() for f in c.flags], dict(c.deltas)))
    if changes.outcome is Outcome.ACCEPTED and fact.kind != EventKind.RETRACTION:
        run.live[fact.event_id] = fact
    elif changes.retracted is Retracted.APPLIED:
        del run.live[fact.ref]
    elif changes.outcome is Outcome.CONFLICTING and was_pending:  # neither version is used
        del run.live[fact.event_id]


def replay(sent: list[Arrival], *, cold: bool = False, reload_at: frozenset[int] = frozenset()) -> Run:
    """The tracker over `sent`; `cold`: its kept folds dropped before every fact; `reload_at`: its state
    written to JSON and read back before those facts."""
    tracker, state, run = PersonTracker(CONFIG), PersonState(), Run()
    for i, (arrival, fact) in enumerate(sent):
        if i in reload_at:
            state = PersonState.from_dict(json.loads(json.dumps(state.to_dict())))
        if cold:
            state.folds = None
        step(tracker, state, arrival, fact, run)
    return run


def net(run: Run) -> tuple[dict[str, str], dict[ContribKey, float]]:
    """The flags open at the end (what each says, not how it got there) and the summed unit deltas."""
    flags: dict[str, str] = {}
    deltas: dict[ContribKey, float] = {}
    for _, changed, step_deltas in run.steps:
        for text in changed:
            flag = Flag.model_validate_json(text)
            if flag.status is FlagStatus.WITHDRAWN:
                flags.pop(flag.flag_id, None)
            else:
                flags[flag.flag_id] = flag.model_dump_json(exclude={"revised_because", "changed"})
        for k, v in step_deltas.items():
            deltas[k] = deltas.get(k, 0.0) + v
    return flags, {k: round(v, 6) for k, v in deltas.items() if abs(v) > 1e-6}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrivals())
def test_kept_folds_are_never_changed_and_each_is_the_fold_from_scratch(sent: list[Arrival]) -> None:
    tracker, state, run = PersonTracker(CONFIG), PersonState(), Run()
    kept: list[tuple[PersonFold, str]] = []  # every fold the state ever held, as it was written then
    held: set[int] = set()
    for arrival, fact in sent:
        step(tracker, state, arrival, fact, run)
        pending = state.pending
        settled = [f for f in run.live.values() if f not in pending]
        assert sorted(run.live.values()) == sorted(settled + pending)
        assert written(state.checkpoint) == written(scratch(settled))
        folds = state.folds or []
        assert len(folds) <= len(pending)
        for j, fold in enumerate(folds):
            assert written(fold) == written(scratch(settled + pending[:j + 1]))
        for fold in [state.checkpoint, *folds]:
            if id(fold) not in held:
                held.add(id(fold))
                kept.append((fold, written(fold)))
        for fold, as_kept in kept:
            assert written(fold) == as_kept, "a kept fold was changed in place"
        # what the indicators read: the fold over every fact in effect (on a copy: the cache stays as it was)
        assert written(tracker.current(copy.deepcopy(state), SUBJECT)) == written(scratch(list(run.live.values())))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrivals())
def test_what_goes_out_sums_to_the_fold_from_scratch_over_the_facts_in_effect(sent: list[Arrival]) -> None:
    run = replay(sent)
    out = Emits()
    scratch(list(run.live.values()), out)
    expected_flags = {fid: f.model_dump_json(exclude={"revised_because", "changed"}) for fid, f in out.flags.items()}
    expected_deltas = {k: round(v, 6) for k, v in out.contrib.items() if abs(v) > 1e-6}
    assert net(run) == (expected_flags, expected_deltas)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrivals(), st.sets(st.integers(0, 60), max_size=4))
def test_the_same_changes_go_out_without_the_kept_folds_and_after_the_state_is_read_back(
    sent: list[Arrival], reload_at: set[int]
) -> None:
    warm = replay(sent)
    assert replay(sent, cold=True).steps == warm.steps
    assert replay(sent, reload_at=frozenset(reload_at)).steps == warm.steps


def test_facts_taken_in_event_time_order_are_folded_once_each_settling_included() -> None:
    tracker, state = PersonTracker(CONFIG), PersonState()
    steps = 0
    fold = tracker.folder.fold

    def counted(s: PersonFold, f: Fact, subject: str, out: Emits) -> None:
        nonlocal steps
        steps += 1
        fold(s, f, subject, out)

    tracker.folder.fold = counted  # type: ignore[method-assign]
    facts = [Fact(T0 + d * DAY + 8 * 3600, f"s{d}", EventKind.SICK_LEAVE, "unit-a", (T0 + d * DAY) // DAY, value=1.0)
             for d in range(30)]
    for f in facts:
        assert tracker.take(state, f, f.t, SUBJECT).outcome is Outcome.ACCEPTED
    assert len(state.pending) < len(facts)  # most have settled
    assert steps == len(facts)

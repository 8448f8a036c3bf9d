"""One contract over every person rule (the idea of river's `check_estimator`): run alone on seeded
streams of one person, each rule must
- raise what it raised when it was written (golden counts),
- give the same open flags whatever the arrival order within the allowed lateness,
- resume identically from its state serialised to JSON at any point,
- keep nothing outside the state (two runs of the same stream agree; configuration is not touched),
- be shown only the event kinds it declares, leave the state it is given alone (states are values), and
  write its state so that it reads back equal.
A new rule in `RULES` is checked by this file without a line added here except its golden count."""

from __future__ import annotations

import json
import random

import pytest

from streams.core.config import MonitorConfig
from streams.core.person.facts import Fact
from streams.core.person.rules import RULES, PersonRule
from streams.core.person.tracker import Outcome, PersonState, PersonTracker
from streams.models.flags import Flag, FlagStatus
from streams.models.vocab import UNIT_FLAG_RULES, EventKind, Rule

CONFIG = MonitorConfig()
DAY = 86400
T0 = 1_735_689_600  # 2025-01-01T00:00Z

#: Open flags each rule leaves, alone, over seeds 0..4 of `stream`: recorded when the rules were split
#: into modules, and the same counts the single `PersonRules` class of e4c51c9 gives on these streams.
GOLDEN: dict[str, int | None] = {
    "repeated_sick_leave": 5,
    "long_sick_leave": 29,
    "frequent_emergency_visits": 5,
    "readmission_30d": 23,
}


def stream(seed: int) -> list[Fact]:
    """Two years of one person who is both an employee and in care, with bursts of everything."""
    rng = random.Random(seed)
    facts: list[Fact] = []
    n = 0

    def add(t: int, kind: EventKind, **kw: object) -> None:
        nonlocal n
        n += 1
        facts.append(Fact(t, f"s{seed}-{n:05d}", kind, rng.choice(["unit-a", "unit-b"]), t // DAY, **kw))

    day = 0
    while day < 730:
        t = T0 + day * DAY + rng.randrange(6 * 3600, 20 * 3600)
        r = rng.random()
        if r < 0.25:
            for k in range(rng.choice([1, 1, 2, 3, 20])):  # a spell: mostly short, sometimes long
                add(t + k * DAY, EventKind.SICK_LEAVE, value=rng.choice([0.5, 1.0]))
        elif r < 0.40:
            add(t, EventKind.EMERGENCY_VISIT)
        elif r < 0.50:
            stay = f"stay-{day}"
            add(t, EventKind.ADMISSION, planned=rng.random() < 0.3, ref=stay)
            add(t + rng.randrange(1, 6) * DAY, EventKind.DISCHARGE, ref=stay)
        elif r < 0.60:
            add(t, EventKind.HOME_CARE_CONTACT, value=30.0, planned=rng.random() < 0.8)
        day += rng.choice([1, 2, 3, 5, 8, 13])
    return sorted(facts)


def run(rule: type[PersonRule], arrivals: list[tuple[int, Fact]], *, reload_every: int = 0) -> dict[str, Flag]:
    tracker = PersonTracker(CONFIG, rules=[rule])
    state = PersonState()
    open_flags: dict[str, Flag] = {}

    def take(flags: list[Flag]) -> None:
        for flag in flags:
            if flag.status is FlagStatus.WITHDRAWN:
                open_flags.pop(flag.flag_id, None)
            else:  # a revision's note (why, what changed) tells how it got there; what it says does not
                open_flags[flag.flag_id] = flag.model_copy(update={"revised_because": None, "changed": None})

    for i, (arrival, fact) in enumerate(arrivals):
        if reload_every and i % reload_every == 0:  # a batch's end: late facts folded in, state written
            take(tracker.fold_late(state, "p_subject").flags)
            state = PersonState.from_dict(json.loads(json.dumps(state.to_dict())))
        result = tracker.take(state, fact, arrival, "p_subject")
        assert result.outcome is Outcome.ACCEPTED
        take(result.flags)
    take(tracker.fold_late(state, "p_subject").flags)
    return open_flags


def in_order(facts: list[Fact]) -> list[tuple[int, Fact]]:
    return [(f.t, f) for f in facts]


def shuffled(facts: list[Fact], seed: int) -> list[tuple[int, Fact]]:
    """Each fact arrives up to half the allowed lateness after it occurred: never too late."""
    rng = random.Random(seed)
    half = CONFIG.allowed_lateness_s // 2
    arrivals = [(f.t + rng.randrange(half), f) for f in facts]
    return sorted(arrivals, key=lambda a: a[0])


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.rule.value)
def test_rule_raises_its_recorded_flags_on_seeded_streams(rule: type[PersonRule]) -> None:
    raised = sum(len(run(rule, in_order(stream(seed)))) for seed in range(5))
    assert raised > 0, "the streams must make the rule decide something"
    if GOLDEN[rule.rule.value] is not None:
        assert raised == GOLDEN[rule.rule.value]
    assert all(f.rule is rule.rule for seed in range(2) for f in run(rule, in_order(stream(seed))).values())


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.rule.value)
@pytest.mark.parametrize("seed", range(5))
def test_rule_is_order_independent_within_the_allowed_lateness(rule: type[PersonRule], seed: int) -> None:
    facts = stream(seed)
    reference = run(rule, in_order(facts))
    for shuffle_seed in range(3):
        assert run(rule, shuffled(facts, 100 * seed + shuffle_seed)) == reference


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.rule.value)
@pytest.mark.parametrize("seed", range(3))
def test_rule_resumes_identically_from_serialised_state(rule: type[PersonRule], seed: int) -> None:
    arrivals = shuffled(stream(seed), seed)
    assert run(rule, arrivals, reload_every=7) == run(rule, arrivals)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.rule.value)
def test_rule_keeps_nothing_outside_the_state_and_leaves_configuration_alone(rule: type[PersonRule]) -> None:
    before = CONFIG.model_dump()
    arrivals = shuffled(stream(4), 4)
    assert run(rule, arrivals) == run(rule, arrivals)
    assert CONFIG.model_dump() == before


def test_every_person_rule_of_the_vocabulary_has_its_module_and_they_run_in_its_order() -> None:
    person_rules = [r for r in Rule if r not in UNIT_FLAG_RULES]
    assert [r.rule for r in RULES] == person_rules


def test_a_rule_must_declare_the_kinds_it_reads() -> None:
    with pytest.raises(TypeError, match="kinds"):
        class Careless(PersonRule[None]):  # noqa: F841
            rule = Rule.READMISSION_30D


def spied_run(rule: type[PersonRule], facts: list[Fact]) -> list[tuple[EventKind, object, object]]:
    """Run `rule` alone over `facts` in order; per update: the fact's kind, the state given and returned,
    each as its rule writes it, and the state given as written again after the update."""
    tracker = PersonTracker(CONFIG, rules=[rule])
    (instance,) = tracker.folder.rules
    update = instance.update
    calls: list[tuple[EventKind, object, object]] = []

    def spy(state: object, fold: object, seen: object, subject: str, out: object) -> object:
        before = json.dumps(rule.to_dict(state))
        after = update(state, fold, seen, subject, out)  # type: ignore[arg-type]
        assert json.dumps(rule.to_dict(state)) == before, "update changed the state it was given"
        calls.append((seen.fact.kind, state, after))  # type: ignore[attr-defined]
        return after

    instance.update = spy  # type: ignore[method-assign]
    state = PersonState()
    for fact in facts:
        tracker.take(state, fact, fact.t, "p_subject")
    return calls


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.rule.value)
def test_rule_is_shown_only_its_kinds_and_leaves_the_state_it_is_given_alone(rule: type[PersonRule]) -> None:
    calls = [c for seed in range(3) for c in spied_run(rule, stream(seed))]
    assert calls and {kind for kind, _, _ in calls} <= rule.kinds


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.rule.value)
def test_rule_state_survives_json_as_its_rule_writes_it(rule: type[PersonRule]) -> None:
    states = [after for seed in range(3) for _, _, after in spied_run(rule, stream(seed))]
    assert rule.from_dict(json.loads(json.dumps(rule.to_dict(rule.initial()))), rule.state_version) == rule.initial()
    for state in states:
        again = rule.from_dict(json.loads(json.dumps(rule.to_dict(state), allow_nan=False)), rule.state_version)
        assert again == state

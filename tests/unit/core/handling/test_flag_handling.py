"""The flag lifecycle and the inbox's read model, as plain Python (core/handling)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.handling.access import ConsentPolicy, Role, User
from streams.core.handling.board import FlagBoard
from streams.core.handling.consent import ConsentChange
from streams.core.handling.lifecycle import HandlingState, Refusal, handle, identifying, malformed
from streams.models.flags import EventsInWindowEvidence, Flag, FlagStatus, WithdrawnBecause
from streams.models.handling import ActionKind, ActionRequest, FlagAction, HandlingStatus, Resolution
from streams.models.vocab import Rule

T0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
POLICY = ConsentPolicy(frozenset({"health-support"}), frozenset())
HR = User("hanna", Role.HR, frozenset({"unit-a"}))
CARE = User("cecilia", Role.CARE, frozenset({"*"}))


def flag(fid: str = "f_1", rule: Rule = Rule.REPEATED_SICK_LEAVE, subject: str = "p_aa", unit: str = "unit-a",
         **kw: object) -> Flag:
    evidence = EventsInWindowEvidence(window_start=dt.date(2026, 1, 1), window_end=dt.date(2026, 3, 1), events=6,
                                      threshold=6, event_ids=["e1"])
    return Flag(flag_id=fid, rule=rule, subject_kind="person", subject_id=subject, unit_id=unit, raised_at=T0,
                evidence=evidence, **kw)


def action(kind: ActionKind, n: int, at: dt.datetime = T0, **kw: object) -> FlagAction:
    return FlagAction(action_id=f"a{n}", flag_id="f_1", action=kind, by="hanna", at=at, **kw)


def test_open_acknowledged_resolved_and_nothing_after() -> None:
    s = HandlingState()
    s1 = handle(s, action(ActionKind.ACKNOWLEDGE, 1), withdrawn=False)
    assert isinstance(s1, HandlingState) and s1.status is HandlingStatus.ACKNOWLEDGED
    assert isinstance(handle(s1, action(ActionKind.ACKNOWLEDGE, 2), withdrawn=False), Refusal)
    s2 = handle(s1, action(ActionKind.RESOLVE, 3, resolution=Resolution.FALSE_ALARM), withdrawn=False)
    assert isinstance(s2, HandlingState) and s2.resolution is Resolution.FALSE_ALARM
    for kind, extra in ((ActionKind.ACKNOWLEDGE, {}), (ActionKind.SNOOZE, {"until": dt.date(2027, 1, 1)}),
                        (ActionKind.RESOLVE, {"resolution": Resolution.ACTION_TAKEN})):
        assert isinstance(handle(s2, action(kind, 9, **extra), withdrawn=False), Refusal)
    assert handle(s2, action(ActionKind.RESOLVE, 3, resolution=Resolution.FALSE_ALARM), withdrawn=False) is s2


def test_a_snooze_opens_again_on_its_day_and_a_withdrawn_flag_takes_no_action() -> None:
    s = handle(HandlingState(), action(ActionKind.SNOOZE, 1, until=dt.date(2026, 3, 9)), withdrawn=False)
    assert isinstance(s, HandlingState)
    assert s.status_on(dt.date(2026, 3, 8)) is HandlingStatus.SNOOZED
    assert s.status_on(dt.date(2026, 3, 9)) is HandlingStatus.OPEN
    assert isinstance(handle(HandlingState(), action(ActionKind.ACKNOWLEDGE, 1), withdrawn=True), Refusal)


def test_a_request_without_its_resolution_or_day_is_malformed() -> None:
    with pytest.raises(ValueError):
        ActionRequest(action=ActionKind.RESOLVE)
    with pytest.raises(ValueError):
        ActionRequest(action=ActionKind.SNOOZE)
    with pytest.raises(ValueError):
        ActionRequest.model_validate({"action": "acknowledge", "note": "a\x1b[31m"})  # control characters


def test_a_snooze_day_not_after_today_is_the_actions_own_fault_whatever_the_state() -> None:
    today = T0.date()
    for day in (dt.date(2020, 1, 1), today):
        assert "snooze needs a day after today" in (malformed(ActionKind.SNOOZE, today=today, until=day) or "")
    assert malformed(ActionKind.SNOOZE, today=today, until=today + dt.timedelta(days=1)) is None
    assert malformed(ActionKind.RESOLVE, today=today) is not None
    assert malformed(ActionKind.ACKNOWLEDGE, today=today) is None
    # read back from the topic, such an action is still refused
    assert isinstance(handle(HandlingState(), action(ActionKind.SNOOZE, 1, until=today), withdrawn=False), Refusal)


def test_a_revision_keeps_the_handling_and_counts_as_a_version() -> None:
    board = FlagBoard(POLICY)
    board.on_consent(ConsentChange("p_aa", "health-support", True, 1, "en1"))
    assert board.on_flag(flag(), T0) is True
    assert board.on_action(action(ActionKind.ACKNOWLEDGE, 1)) is None
    revised = flag(revised_because=WithdrawnBecause.LATE_DATA, changed=["raised_at"])
    assert board.on_flag(revised, T0 + dt.timedelta(hours=1)) is False
    assert board.on_flag(revised, T0 + dt.timedelta(hours=2)) is False  # sent again: not a new version
    [entry] = board.listing(HR, T0.date())
    assert [v.number for v in entry.versions] == [1, 2]
    assert board.state("f_1").status is HandlingStatus.ACKNOWLEDGED


def test_consent_role_and_scope_decide_who_sees_a_flag() -> None:
    board = FlagBoard(POLICY)
    board.on_flag(flag(), T0)
    board.on_flag(flag("f_2", Rule.FREQUENT_EMERGENCY_VISITS, "p_bb", "unit-z"), T0)
    assert [e.flag.flag_id for e in board.listing(HR, T0.date())] == []  # no consent yet
    board.on_consent(ConsentChange("p_aa", "health-support", True, 10, "en1"))
    assert [e.flag.flag_id for e in board.listing(HR, T0.date())] == ["f_1"]
    assert [e.flag.flag_id for e in board.listing(CARE, T0.date())] == ["f_2"]  # care rules need none
    assert board.visible(User("olle", Role.HR, frozenset({"unit-b"})), "f_1") is None
    board.on_consent(ConsentChange("p_aa", "health-support", False, 5, "en0"))  # an older leaving: no effect
    assert board.visible(HR, "f_1") is not None
    board.on_consent(ConsentChange("p_aa", "health-support", False, 20, "en2"))
    assert board.visible(HR, "f_1") is None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 50), st.integers(0, 9)), max_size=12), st.randoms())
def test_consent_does_not_depend_on_arrival_order(changes: list[tuple[bool, int, int]], rnd: object) -> None:
    events = [ConsentChange("p_aa", "health-support", joined, t, f"e{i}") for joined, t, i in changes]
    a, b = FlagBoard(POLICY), FlagBoard(POLICY)
    for c in events:
        a.on_consent(c)
    shuffled = list(events)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    for c in shuffled:
        b.on_consent(c)
    assert a.consent.joined("p_aa") == b.consent.joined("p_aa")


def test_feedback_counts_resolutions_and_times_from_first_seen() -> None:
    board = FlagBoard(POLICY)
    board.on_flag(flag(), T0)
    board.on_action(action(ActionKind.ACKNOWLEDGE, 1, at=T0 + dt.timedelta(minutes=30)))
    board.on_action(action(ActionKind.RESOLVE, 2, at=T0 + dt.timedelta(hours=2), resolution=Resolution.FALSE_ALARM))
    fb = board.feedback()[("repeated_sick_leave", "unit-a")]
    assert fb.resolved == {Resolution.FALSE_ALARM: 1} and fb.false_alarm_share == 1.0
    assert (fb.acknowledged, fb.seconds_to_acknowledge, fb.seconds_to_resolve) == (1, 1800.0, 7200.0)
    assert FlagStatus.RAISED is board.entries["f_1"].flag.status


def test_a_note_with_a_personnummer_is_malformed_and_says_why() -> None:
    today = dt.date(2025, 3, 1)
    for note in ("ringde 19811218-9876", "811218 9876", "anhörig (811278-9873)"):
        fault = malformed(ActionKind.ACKNOWLEDGE, today=today, note=note) or ""
        assert fault.startswith("note holds a personnummer or samordningsnummer"), note
    for note in ("Ringt, samtal bokat 2025-03-01 kl 10:00", "ärende 6c040625-2346-4a1b-9c3d-1f2e3d4c5b6a", ""):
        assert malformed(ActionKind.ACKNOWLEDGE, today=today, note=note) is None, note
    assert identifying("reason", "vårdplanering 19811218 9876") is not None
    assert identifying("reason", "vårdplanering med hemtjänsten") is None

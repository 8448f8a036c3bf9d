"""The inbox list's query: filters by unit, rule, status and raised days (local), order and pages."""

from __future__ import annotations

import datetime as dt

from streams.core.handling.access import Role, User
from streams.core.handling.board import FlagBoard
from streams.core.handling.listing import ListQuery, page_of, parse_query
from streams.models.flags import EmergencyVisitEvidence, Flag
from streams.models.handling import HandlingStatus
from tests.unit.core.handling.test_flag_handling import POLICY, T0, flag

ADMIN = User("ada", Role.ADMIN, frozenset({"*"}))
TZ = "Europe/Stockholm"


def board_of_many() -> FlagBoard:
    board = FlagBoard(POLICY)
    for i in range(7):  # one a day, 22:30 UTC: the next day in Stockholm
        raised = T0.replace(hour=22, minute=30) + dt.timedelta(days=i)
        board.on_flag(flag(f"f_{i}", unit=f"unit-{'ab'[i % 2]}", subject=f"p_{i}").model_copy(
            update={"raised_at": raised, "subject_kind": "unit"}), raised)
    return board


def listed(board: FlagBoard, params: dict[str, str]) -> list[str]:
    query = parse_query(params, TZ)
    assert isinstance(query, ListQuery), query
    found = page_of(board.listing(ADMIN, T0.date(), query.filter), query, lambda _: HandlingStatus.OPEN)
    return [e.flag.flag_id for e in found.entries]


def test_raised_days_are_local_days_both_ends_included() -> None:
    board = board_of_many()  # f_0 raised 2026-03-02 22:30 UTC = 2026-03-02 23:30 CET: the 2nd in Sweden
    assert listed(board, {"raised_from": "2026-03-03", "raised_to": "2026-03-04"}) == ["f_2", "f_1"]
    assert listed(board, {"raised_to": "2026-03-02"}) == ["f_0"]
    assert listed(board, {"unit": "unit-a", "raised_from": "2026-03-04"}) == ["f_6", "f_4", "f_2"]


def test_order_and_pages_are_stable_and_the_last_page_holds_the_rest() -> None:
    board = board_of_many()
    assert listed(board, {"sort": "raised", "per_page": "3", "page": "3"}) == ["f_6"]
    assert listed(board, {"sort": "unit", "per_page": "4"}) == ["f_6", "f_4", "f_2", "f_0"]
    assert listed(board, {"sort": "-unit", "per_page": "2", "page": "99"}) == ["f_0"]  # b: 5 3 1, a: 6 4 2 0
    query = parse_query({"per_page": "3"}, TZ)
    assert isinstance(query, ListQuery)
    page = page_of(board.listing(ADMIN, T0.date(), query.filter), query, lambda _: HandlingStatus.OPEN)
    assert (page.total, page.pages, page.page) == (7, 3, 1)


def test_a_malformed_query_says_what_is_wrong() -> None:
    for params, words in [({"raised_from": "03/02/2026"}, "yyyy-mm-dd"), ({"status": "gone"}, "status"),
                          ({"raised_from": "2026-03-05", "raised_to": "2026-03-01"}, "before"),
                          ({"sort": "subject"}, "sort"), ({"per_page": "1000"}, "between"),
                          ({"page": "x"}, "whole numbers")]:
        answer = parse_query(params, TZ)
        assert isinstance(answer, str) and words in answer, (params, answer)


def test_a_flag_raised_before_its_evidence_had_days_still_reads() -> None:
    old = ('{"schema_version": 1, "flag_id": "f_old", "rule": "frequent_emergency_visits", "subject_kind": "person", '
           '"subject_id": "p_x", "unit_id": "u", "raised_at": "2025-04-26T07:00:00Z", "evidence": {"kind": '
           '"emergency_visits", "window_start": "2024-04-27", "window_end": "2025-04-26", "visits": 4, '
           '"threshold": 4, "event_ids": ["e1", "e2", "e3", "e4"]}}')
    evidence = Flag.model_validate_json(old).evidence
    assert isinstance(evidence, EmergencyVisitEvidence)
    assert evidence.event_ids == ["e1", "e2", "e3", "e4"] and evidence.dated_events == []

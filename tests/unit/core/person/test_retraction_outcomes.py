"""Every retraction says what it did: one documented outcome each, counted or rejected with a reason that
tells the truth, and `replay --flags-out` shows the withdrawals it caused, with their reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streams.cli import main
from streams.core.person.tracker import RETRACTION_BIT
from tests.helpers import NOW, event, monitor
from tests.unit.core.person.test_corrections import retraction, sick_spells


def fed(lines: list[str]):  # type: ignore[no-untyped-def]
    m = monitor()
    results = [m.process(line, NOW) for line in lines]
    m.finish()
    return m, results


def test_a_retraction_of_an_event_that_was_here_is_counted_applied() -> None:
    lines = sick_spells()
    m, _ = fed([*lines[:-1], retraction(lines[5], 52), lines[-1]])
    assert m.tally.retractions == {"applied": 1}
    assert m.open_flags() == []


def test_a_retraction_of_an_unknown_event_id_is_counted_and_the_event_ignored_should_it_come() -> None:
    lines = sick_spells()
    ghost = json.dumps({**json.loads(lines[5]), "event_id": "never-sent"})
    m, results = fed([*lines, retraction(ghost, 52)])
    assert results[-1].rejection is None
    assert m.tally.retractions == {"event_not_seen": 1}
    assert [f.rule.value for f in m.open_flags()] == ["repeated_sick_leave"], "nothing else changes"


def test_a_second_retraction_of_the_same_event_under_a_new_id_is_counted_already_void() -> None:
    lines = sick_spells()
    again = json.dumps({**json.loads(retraction(lines[5], 53)), "event_id": "retraction-2"})
    m, results = fed([*lines, retraction(lines[5], 52), again])
    assert results[-1].rejection is None and results[-1].flags == []
    assert m.tally.retractions == {"applied": 1, "already_void": 1}
    assert m.tally.duplicates == 0


def test_the_same_retraction_sent_twice_is_a_duplicate() -> None:
    lines = sick_spells()
    first = retraction(lines[5], 52)
    m, _ = fed([*lines, first, first])
    assert m.tally.retractions == {"applied": 1} and m.tally.duplicates == 1


@pytest.mark.parametrize("days_later", [0, 2, 40])
def test_a_retraction_of_a_retraction_is_rejected_saying_a_retraction_is_never_taken_back(days_later: int) -> None:
    lines = sick_spells()
    first = retraction(lines[5], 52)
    undo = json.dumps({**json.loads(retraction(first, 52 + days_later)), "event_id": "undo"})
    moving_on = [event("sick_leave", d, person_id=f"other-{d}") for d in range(53, 53 + days_later)]
    m, results = fed([*lines, first, *moving_on, undo])
    rejection = results[-1].rejection
    assert rejection is not None and rejection.reason.value == "retracts_a_retraction", rejection
    assert "older than the allowed lateness" not in rejection.message
    assert "send that event again under a new event_id" in rejection.message and rejection.field == "retracts"
    assert m.tally.rejected == {"retracts_a_retraction": 1}
    assert m.open_flags() == [], "the first retraction stands"


def test_replay_flags_out_is_the_flag_stream_with_withdrawals_and_the_summary_counts_them_by_reason(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = sick_spells()
    first = retraction(lines[5], 52)
    ghost = retraction(json.dumps({**json.loads(lines[5]), "event_id": "never-sent"}), 52)
    ghost = json.dumps({**json.loads(ghost), "event_id": "r-ghost"})
    undo = json.dumps({**json.loads(retraction(first, 53)), "event_id": "undo"})
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join([*lines[:-1], first, ghost, undo, lines[-1]]) + "\n")
    assert main(["replay", str(path), "--demo-key", "--quiet", "--flags-out", str(tmp_path / "flags.jsonl")]) == 0
    stream = [json.loads(line) for line in (tmp_path / "flags.jsonl").read_text().splitlines()]
    assert [(f["rule"], f["status"], f.get("withdrawn_because")) for f in stream] == [
        ("repeated_sick_leave", "raised", None), ("repeated_sick_leave", "withdrawn", "retraction")]
    assert stream[0]["flag_id"] == stream[1]["flag_id"]
    out = capsys.readouterr().out
    assert "repeated_sick_leave          0 open  (raised 1, withdrawn 1: 1 retraction)" in out
    assert "retractions               2" in out and "event_not_seen" in out and "applied" in out
    assert "retracts_a_retraction" in out


def test_a_withdrawal_after_late_data_is_in_the_flag_stream_with_its_reason() -> None:
    """Late sick days that join two spells into one occasion leave too few occasions: the flag is
    withdrawn, and the stream (and the summary) say `late data`."""
    lines = sick_spells()
    m, _ = fed([*lines, *(event("sick_leave", d, hour=21, person_id="emp-1") for d in range(41, 50))])
    versions = [f for f in m.flag_stream if f.rule.value == "repeated_sick_leave"]
    assert len({f.flag_id for f in versions}) == 1 and versions[0].status.value == "raised"
    assert (versions[-1].status.value, versions[-1].withdrawn_because) == ("withdrawn", "late_data")
    assert m.tally.flags_withdrawn == {("repeated_sick_leave", "late_data"): 1}


def test_a_retraction_kept_by_an_earlier_version_sent_again_is_still_a_duplicate() -> None:
    """States written before retractions were marked in their digest hold the plain digest."""
    lines = sick_spells()
    first = retraction(lines[5], 52)
    m, _ = fed([*lines, first])
    rid = json.loads(first)["event_id"]
    holder = next(s for s in m.persons.values() if rid in s.seen)
    t, digest = holder.seen[rid]
    assert digest >= RETRACTION_BIT
    holder.seen[rid] = (t, digest - RETRACTION_BIT)
    result = m.process(first, NOW)
    assert result.rejection is None and m.tally.duplicates == 1 and m.tally.retractions == {"applied": 1}

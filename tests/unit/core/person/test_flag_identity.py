"""A flag is one episode of one rule for one subject: late data revises it, under the same id, and
says what changed and why; an episode that no longer holds is withdrawn. (Issue 13: recipients who
acknowledged a flag must not lose that work when late data moves the event that triggered it.)"""

from __future__ import annotations

from tests.helpers import NOW, monitor, sick


def test_a_late_event_that_moves_the_trigger_revises_the_flag_under_the_same_id() -> None:
    m = monitor()
    on_time = [sick(d) for d in (100, 110, 120, 130, 140, 152)]  # the 6th occasion reaches the threshold
    for line in on_time:
        m.process(line, NOW)
    m.finish()
    [first] = m.open_flags()
    assert first.rule.value == "repeated_sick_leave" and first.revised_because is None
    # An occasion between the 5th and the 6th arrives late (within the allowed lateness of 7 days): the
    # threshold is now reached by it, six days earlier: the same episode, another trigger.
    result = m.process(sick(146), NOW, arrival=m.clock.now)
    assert result.rejection is None
    m.finish()
    [revised] = m.open_flags()
    assert revised.flag_id == first.flag_id
    assert revised.status.value == "raised"
    assert revised.revised_because == "late_data"
    assert revised.raised_at < first.raised_at
    assert revised.changed is not None and {"raised_at", "evidence"} <= set(revised.changed)
    assert "flag_id" not in revised.changed


def test_the_next_episode_of_the_same_rule_gets_a_new_id_and_a_rerun_gives_the_same_ids() -> None:
    spells = [sick(d) for d in (0, 10, 20, 30, 40, 50)] + [sick(d) for d in (500, 510, 520, 530, 540, 550)]

    def ids() -> list[str]:
        m = monitor()
        for line in spells:
            m.process(line, NOW)
        m.finish()
        return [f.flag_id for f in m.open_flags()]

    first = ids()
    assert len(first) == 2 and len(set(first)) == 2
    assert ids() == first

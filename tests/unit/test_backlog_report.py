"""The worker's backlog line: progress while a real backlog drains, one line when caught up, silence in
steady state (a stranger found '~0 s left' logged every 5 s by an idle demo)."""

from __future__ import annotations

from streams.progress import BacklogReport


def test_a_backfill_reports_progress_then_that_it_caught_up_then_nothing() -> None:
    report = BacklogReport(steady_s=5)
    assert report.line(100_000, 2_000, 2_500.0, 10_000) == (
        "backlog: 100,000 input events waiting (2,000 on internal topics), 2500 events/s, ~40 s left")
    assert report.line(30_000, 1_000, 2_500.0) is not None
    assert report.line(12_000, 1_378, 2_196.0) is not None  # ~6 s of work: not caught up yet
    assert report.line(40, 10, 200.0, 150_000) == (
        "backlog: caught up (50 records in flight), 200 events/s, 150,000 input events processed since start")
    assert report.line(40, 10, 200.0, 151_000) is None
    assert report.line(0, 0, 0.0) is None


def test_steady_state_is_silent_and_a_lag_that_does_not_move_is_not() -> None:
    report = BacklogReport(steady_s=5)
    assert report.line(30, 5, 200.0) is None  # cleared in well under a second, nothing processed yet
    assert report.line(0, 3, 0.0) == (
        "backlog: 0 input events waiting (3 on internal topics), 0 events/s, no progress in the last interval")


def test_a_backlog_drained_before_the_first_report_still_leaves_its_line_once() -> None:
    # a fast worker on a short history: caught up by the first report, which says what it worked off
    report = BacklogReport(steady_s=5)
    assert report.line(0, 0, 20_000.0, 100_000) == (
        "backlog: caught up (0 records in flight), 20000 events/s, 100,000 input events processed since start")
    assert report.line(0, 0, 30.0, 100_150) is None  # then steady state is silent again

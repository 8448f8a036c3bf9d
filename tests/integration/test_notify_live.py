"""Notifications from a real worker: a backfill that raises dozens of flags sends one message per route
(webhook and e-mail), naming units and counts, never a person; nothing pending is lost when the worker
stops (it sends what it holds on the way out)."""

from __future__ import annotations

import json
import queue
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.inbox import ed_visits, write_events
from tests.integration.live import Namespace, Worker, final_flags, publish_file
from tests.integration.test_notify_delivery import PSEUDONYM, Mailbox, mailbox, webhook  # noqa: F401 - fixtures

pytestmark = pytest.mark.integration

PERSONS = 30
WAIT_S = 120.0  # only a bound on a failure


def test_a_backfill_sends_one_message_per_route_with_counts_and_no_person(
        ns: Namespace, workers: list[Worker], tmp_path: Path, mailbox: tuple[Mailbox, int],  # noqa: F811
        webhook: tuple[queue.Queue[Any], str]) -> None:  # noqa: F811
    box, smtp_port = mailbox
    posts, base = webhook
    routes = [{"name": "care-webhook", "channel": "webhook", "target": f"{base}/hook",
               "rules": ["frequent_emergency_visits"], "units": ["*"]},
              {"name": "care-mail", "channel": "email", "target": "vardsamordnare@kommun.example.se",
               "rules": ["*"], "units": ["hemtjanst-norr"]}]
    env = {"OUTCOME_MONITOR_NOTIFY__ROUTES": json.dumps(routes),
           "OUTCOME_MONITOR_NOTIFY__WINDOW_S": "3600",  # a backfill's flags all fall in one window
           "OUTCOME_MONITOR_NOTIFY__SMTP__HOST": "127.0.0.1", "OUTCOME_MONITOR_NOTIFY__SMTP__PORT": str(smtp_port),
           "OUTCOME_MONITOR_NOTIFY__SMTP__STARTTLS": "false",
           "OUTCOME_MONITOR_NOTIFY__SMTP__FROM_ADDRESS": "outcome-monitor@kommun.example.se"}
    worker = Worker(ns, tmp_path, **env).start()
    workers.append(worker)
    worker.wait_ready(180)
    units = ["hemtjanst-norr", "hemtjanst-syd", "akuten"]
    lines = sorted((line for i in range(PERSONS) for line in ed_visits(f"pat-{i}", units[i % 3], i)),
                   key=lambda line: json.loads(line)["occurred_at"])  # a history in time order
    publish_file(ns, write_events(tmp_path / "backfill.jsonl", lines))
    deadline = time.monotonic() + WAIT_S
    while len(final_flags(ns)) < PERSONS and time.monotonic() < deadline:
        worker.assert_alive()
        time.sleep(0.5)
    assert len(final_flags(ns)) == PERSONS
    assert posts.empty() and box.received.empty()  # the window is an hour: nothing sent yet
    worker.stop()  # SIGTERM: what is pending goes out before the worker ends
    status, path, body = posts.get(timeout=WAIT_S)
    assert (status, path) == (200, "/hook")
    assert body["total"] == PERSONS
    assert {u["unit_id"]: u["count"] for u in body["units"]} == {u: PERSONS // 3 for u in units}
    assert posts.empty()
    rcpt, mail = box.received.get(timeout=WAIT_S)
    assert rcpt == ["vardsamordnare@kommun.example.se"]
    assert box.received.empty()
    text = json.dumps(body) + str(mail)
    assert str(PERSONS // 3) in str(mail) and "hemtjanst-norr" in str(mail)
    assert not PSEUDONYM.search(text) and "pat-" not in text

"""The real Prometheus scrapes a real worker fed through real Kafka, and every query of every dashboard
panel returns data. A board whose query returns nothing is a broken board."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from streams.models.handling import ActionKind, FlagAction, Resolution
from streams.observe.dashboards import all_dashboards
from streams.observe.metric_names import MetricName
from tests.integration.inbox import ns_inbox_topics
from tests.integration.live import (
    Namespace,
    Worker,
    final_flags,
    publish_file,
    publish_raw,
    wait_drained,
)
from tests.integration.prom import Prometheus, empty_panels

pytestmark = pytest.mark.integration


def test_every_dashboard_panel_query_returns_data_from_the_real_prometheus(
    ns: Namespace, workers: list[Worker], tmp_path: Path, small_stream: Path,
    prometheus_for: list[Prometheus],
) -> None:
    worker = Worker(ns, tmp_path).start()
    workers.append(worker)
    worker.wait_ready()
    prom = Prometheus(tmp_path, worker.port)
    prometheus_for.append(prom)
    prom.wait('up{job="outcome-monitor"}', lambda r: r and r[0]["value"][1] == "1")
    start = time.time()
    publish_file(ns, small_stream)
    wait_drained(ns, workers)
    consumed = worker.consumed()
    prom.wait("sum(outcome_events_consumed_total)", lambda r: r and float(r[0]["value"][1]) >= consumed)
    # What recipients did with two flags, as the inbox writes it: the "Flag handling" board shows it.
    flags = sorted(final_flags(ns))[:2]
    assert len(flags) == 2
    actions = [FlagAction(action_id=f"a{i}", flag_id=fid, action=kind, by="hanna.hr", at=dt.datetime.now(dt.UTC),
                          resolution=resolution)
               for i, (fid, kind, resolution) in enumerate([
                   (flags[0], ActionKind.ACKNOWLEDGE, None), (flags[0], ActionKind.RESOLVE, Resolution.FALSE_ALARM),
                   (flags[1], ActionKind.RESOLVE, Resolution.ACTION_TAKEN)])]
    publish_raw(ns_inbox_topics(ns)["flag-actions"],
                [(a.flag_id.encode(), a.model_dump_json().encode(), None) for a in actions])
    prom.wait(f"sum(max by (rule, unit, resolution) ({MetricName.FLAGS_RESOLVED}))",
              lambda r: r and float(r[0]["value"][1]) == 2)
    time.sleep(3)  # a few more evaluations of the recording rules

    report: list[str] = []
    # The Programmes board needs a worker that follows programmes: tests/integration/test_programmes.py
    # checks its every panel against the real Prometheus the same way.
    boards = [b for b in all_dashboards().values() if b["title"] != "Programmes"]
    assert len(boards) == len(all_dashboards()) - 1
    empty = empty_panels(prom, boards, start, report)
    (tmp_path / "panel-samples.md").write_text("\n".join(report) + "\n")
    print("\n".join(report))
    assert empty == [], "panels without data:\n" + "\n".join(empty)

    # Nothing Prometheus holds names a person: no label value looks like a person id or pseudonym.
    names = prom.api("label/__name__/values")
    assert names
    for label in ("unit", "rule", "type", "reason", "topic", "table", "kind", "window", "period", "resolution"):
        for value in prom.api(f"label/{label}/values"):
            assert not value.startswith(("p_", "emp-", "pat-")), (label, value)

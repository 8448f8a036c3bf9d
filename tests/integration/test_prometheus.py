"""The real Prometheus scrapes a real worker fed through real Kafka, and every query of every dashboard
panel returns data. A board whose query returns nothing is a broken board."""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from streams.models.handling import ActionKind, FlagAction, Resolution
from streams.observe.dashboards import all_dashboards, panel_queries
from streams.observe.metrics import MetricName
from tests.integration.inbox import ns_inbox_topics
from tests.integration.live import (
    ROOT,
    Namespace,
    Worker,
    final_flags,
    free_port,
    publish_file,
    publish_raw,
    wait_drained,
)

pytestmark = pytest.mark.integration


class Prometheus:
    def __init__(self, workdir: Path, target_port: int) -> None:
        binary = shutil.which("prometheus")
        assert binary, "Debian's prometheus package is needed (apt-get install prometheus; .ci/run does)"
        config = yaml.safe_load((ROOT / "prometheus" / "prometheus.yml").read_text())
        config["global"].update({"scrape_interval": "1s", "evaluation_interval": "1s"})
        config["rule_files"] = [str(ROOT / "prometheus" / "rules.yml")]
        config["scrape_configs"][0]["static_configs"] = [{"targets": [f"127.0.0.1:{target_port}"]}]
        path = workdir / "prometheus.yml"
        path.write_text(yaml.safe_dump(config))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (workdir / "prometheus.log").open("wb")
        self.proc = subprocess.Popen([binary, f"--config.file={path}", f"--storage.tsdb.path={workdir / 'tsdb'}",
                                      f"--web.listen-address=127.0.0.1:{self.port}"],
                                     stdout=self.log, stderr=subprocess.STDOUT)

    def api(self, path: str, **params: Any) -> Any:
        url = f"{self.url}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=10) as r:
            body = json.loads(r.read())
        assert body["status"] == "success", body
        return body["data"]

    def wait(self, expr: str, ok: Any, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "prometheus exited"
            try:
                last = self.api("query", query=expr)["result"]
                if ok(last):
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"{expr} never satisfied; last: {last}")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


@pytest.fixture
def prometheus_for(tmp_path: Path) -> Iterator[list[Prometheus]]:
    started: list[Prometheus] = []
    yield started
    for p in started:
        p.stop()


def finite_values(result: list[dict[str, Any]]) -> list[tuple[dict[str, str], float]]:
    out = []
    for series in result:
        for _, value in series.get("values", []):
            v = float(value)
            if math.isfinite(v):
                out.append((series["metric"], v))
    return out


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

    report = []
    empty = []
    for board in all_dashboards().values():
        for title, expr in panel_queries(board):
            query = expr.replace("$unit", ".*")
            data = prom.api("query_range", query=query, start=start - 5, end=time.time(), step="1s")
            values = finite_values(data["result"])
            if not values:
                empty.append(f"{board['title']} / {title}: {expr}")
                continue
            labels, value = values[-1]
            shown = {k: v for k, v in labels.items() if k not in ("__name__", "instance", "job")}
            report.append(f"| {board['title']} | {title} | `{expr}` | {shown} = {value:.4g} |")
    (tmp_path / "panel-samples.md").write_text("\n".join(report) + "\n")
    print("\n".join(report))
    assert empty == [], "panels without data:\n" + "\n".join(empty)

    # Nothing Prometheus holds names a person: no label value looks like a person id or pseudonym.
    names = prom.api("label/__name__/values")
    assert names
    for label in ("unit", "rule", "type", "reason", "topic", "table", "kind", "window", "period", "resolution"):
        for value in prom.api(f"label/{label}/values"):
            assert not value.startswith(("p_", "emp-", "pat-")), (label, value)

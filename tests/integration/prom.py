"""The real Prometheus (Debian's package), started by hand with the project's config, scraping a worker."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from tests.integration.live import ROOT, free_port


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


def finite_values(result: list[dict[str, Any]]) -> list[tuple[dict[str, str], float]]:
    out = []
    for series in result:
        for _, value in series.get("values", []):
            v = float(value)
            if math.isfinite(v):
                out.append((series["metric"], v))
    return out


def empty_panels(prom: Prometheus, boards: list[dict[str, Any]], start: float,
                 report: list[str]) -> list[str]:
    """The panels of `boards` whose query returns no finite value since `start` (variables set to match
    everything); a line per panel with data goes to `report`."""
    from streams.observe.dashboards import panel_queries

    empty = []
    for board in boards:
        for title, expr in panel_queries(board):
            query = expr.replace("$unit", ".*").replace("$programme", ".*")
            data = prom.api("query_range", query=query, start=start - 5, end=time.time(), step="1s")
            values = finite_values(data["result"])
            if not values:
                empty.append(f"{board['title']} / {title}: {expr}")
                continue
            labels, value = values[-1]
            shown = {k: v for k, v in labels.items() if k not in ("__name__", "instance", "job")}
            report.append(f"| {board['title']} | {title} | `{expr}` | {shown} = {value:.4g} |")
    return empty

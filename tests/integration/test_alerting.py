"""An alert fired by a drifting unit reaches the Alertmanager webhook: real Kafka, a real worker, the real
Prometheus evaluating the shipped alerting rules (streams/alerts/rules.yml, found through the shipped
prometheus/prometheus.yml) and the real Alertmanager with the shipped routing (prometheus/alertmanager.yml).
Only addresses, ports and the evaluation interval are replaced; the rules and the routing are as shipped."""

from __future__ import annotations

import http.server
import json
import re
import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from streams.core.config import MonitorConfig
from streams.core.pseudonym import Pseudonymiser
from streams.models.vocab import Rule
from streams.simulators.simulation import Scenario
from tests.integration.conftest import replayed, write_scenario
from tests.integration.live import PSEUDONYM_KEY, ROOT, Namespace, Worker, free_port, publish_file, wait_drained

pytestmark = pytest.mark.integration

DRIFT_ALERT = "OutcomeUnitSickLeaveDrift"
WAIT_S = 300  # generous: Alertmanager's shipped group_wait (30 s) comes on top of scrape and evaluation


def binary(name: str) -> str:
    path = shutil.which(name)
    assert path, f"Debian's {name} is needed (scripts/system-deps.sh test installs it; `make test` runs it)"
    return path


def wait_for(what: str, check: Callable[[], Any], alive: Callable[[], None], timeout: float = WAIT_S) -> Any:
    """Poll `check` until it returns something truthy; fail with `what` and the last error otherwise."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        alive()
        try:
            result = check()
            if result:
                return result
        except OSError as exc:
            last = exc
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout} s (last error: {last})")


class Webhook:
    """The Alertmanager receiver: a local HTTP server that keeps every notification's raw body."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        lock = threading.Lock()
        bodies = self.bodies

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with lock:
                    bodies.append(body)
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def alerts(self) -> list[dict[str, Any]]:
        return [alert for body in list(self.bodies) for alert in json.loads(body)["alerts"]]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Service:
    """A Prometheus-family server started from a config generated from the shipped one."""

    def __init__(self, name: str, argv: list[str], port: int, workdir: Path) -> None:
        self.name, self.port = name, port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = workdir / f"{name}.log"
        self.proc = subprocess.Popen(argv, stdout=self.log_path.open("wb"), stderr=subprocess.STDOUT)

    def assert_alive(self) -> None:
        code = self.proc.poll()
        assert code is None, f"{self.name} exited with {code}; log: {self.tail()}"

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=10) as r:
            return json.loads(r.read()) if "json" in r.headers.get("Content-Type", "") else r.read()

    def wait_ready(self) -> None:
        wait_for(f"{self.name} ready; log: {self.tail()}", lambda: self.get("/-/ready"), self.assert_alive)

    def tail(self, n: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def start_alertmanager(workdir: Path, webhook_url: str) -> Service:
    config = yaml.safe_load((ROOT / "prometheus" / "alertmanager.yml").read_text())
    for receiver in config["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            hook["url"] = webhook_url
    path = workdir / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config))
    port = free_port()
    # No cluster: its default port 9094 is the local Kafka's SASL listener.
    return Service("alertmanager", [binary("prometheus-alertmanager"), f"--config.file={path}",
                                    f"--storage.path={workdir / 'alertmanager-data'}",
                                    f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                   port, workdir)


def start_prometheus(workdir: Path, worker_port: int, alertmanager_port: int) -> Service:
    shipped = ROOT / "prometheus" / "prometheus.yml"
    config = yaml.safe_load(shipped.read_text())
    config["global"].update({"scrape_interval": "1s", "evaluation_interval": "1s"})
    # The shipped rule files, as the shipped config names them (relative to its own directory).
    config["rule_files"] = [str((shipped.parent / f).resolve()) for f in config["rule_files"]]
    assert str(ROOT / "streams" / "alerts" / "rules.yml") in config["rule_files"], config["rule_files"]
    config["alerting"]["alertmanagers"][0]["static_configs"] = [{"targets": [f"127.0.0.1:{alertmanager_port}"]}]
    config["scrape_configs"][0]["static_configs"] = [{"targets": [f"127.0.0.1:{worker_port}"]}]
    path = workdir / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    port = free_port()
    return Service("prometheus", [binary("prometheus"), f"--config.file={path}",
                                  f"--storage.tsdb.path={workdir / 'tsdb'}",
                                  f"--web.listen-address=127.0.0.1:{port}"], port, workdir)


@pytest.fixture
def services() -> Iterator[list[Service | Webhook]]:
    started: list[Service | Webhook] = []
    yield started
    for s in reversed(started):
        s.stop()


def drifting_stream(path: Path) -> tuple[Path, set[str], set[str]]:
    """~1,400 events over 150 days in which one unit's sick leave rises threefold from day 95. Returns
    the file, the unit labels the drift alert may carry (from replay) and every person id in it."""
    scenario = Scenario(seed=21, days=150, units=3, care_persons=0, drift_unit=1, drift_onset_day=95,
                        drift_factor=3.0)
    write_scenario(path, scenario)
    monitor = replayed(path)
    config = MonitorConfig()
    units = set()
    for flag in monitor.open_flags():
        if flag.rule == Rule.UNIT_SICK_LEAVE_DRIFT:
            state = monitor.units[flag.unit_id]
            big = state.headcount_on(state.clock_day) >= config.min_group_size
            units.add(flag.unit_id if big else "other")
    persons = set()
    for line in path.read_text().splitlines():
        person = json.loads(line).get("person_id")
        if person:
            persons.add(person)
    return path, units, persons


def test_a_drifting_unit_fires_an_alert_that_reaches_the_webhook_with_its_unit_and_no_person(
    ns: Namespace, workers: list[Worker], tmp_path: Path, services: list[Service | Webhook],
) -> None:
    stream, drifting, persons = drifting_stream(tmp_path / "drift.jsonl")
    assert drifting == {"hr-unit-01"}, "the scenario must make exactly one unit (a large one) drift"

    webhook = Webhook()
    services.append(webhook)
    alertmanager = start_alertmanager(tmp_path, webhook.url)
    services.append(alertmanager)
    alertmanager.wait_ready()
    worker = Worker(ns, tmp_path).start()
    workers.append(worker)
    worker.wait_ready()
    prometheus = start_prometheus(tmp_path, worker.port, alertmanager.port)
    services.append(prometheus)
    prometheus.wait_ready()

    def alive() -> None:
        for service in (alertmanager, prometheus):
            service.assert_alive()
        worker.assert_alive()

    # Prometheus loaded the shipped alerting rules and knows the Alertmanager.
    groups = prometheus.get("/api/v1/rules?type=alert")["data"]["groups"]
    assert DRIFT_ALERT in {r["name"] for g in groups for r in g["rules"]}, groups
    wait_for("Prometheus to discover the Alertmanager",
             lambda: prometheus.get("/api/v1/alertmanagers")["data"]["activeAlertmanagers"], alive)

    publish_file(ns, stream)
    wait_drained(ns, workers)

    def drift_alerts() -> list[dict[str, Any]]:
        return [a for a in webhook.alerts() if a["labels"].get("alertname") == DRIFT_ALERT
                and a["status"] == "firing"]

    try:
        fired = wait_for("the drift alert at the webhook", drift_alerts, alive)
    except AssertionError as exc:
        state = prometheus.get("/api/v1/alerts")["data"]["alerts"]
        raise AssertionError(f"{exc}\nPrometheus alerts: {state}\nwebhook got: {webhook.bodies}\n"
                             f"alertmanager log: {alertmanager.tail()}") from None
    assert {a["labels"]["unit"] for a in fired} == drifting
    for alert in fired:
        assert set(alert["labels"]) == {"alertname", "severity", "unit"}, alert["labels"]
        assert alert["labels"]["severity"] == "warning"
        assert "hr-unit-01" in alert["annotations"]["summary"]

    # Nothing that reached the receiver names a person: no source id, no pseudonym, no pseudonym shape.
    payload = b"\n".join(webhook.bodies).decode()
    (tmp_path / "webhook.jsonl").write_text(payload + "\n")  # what a receiver gets, for a look
    pseudonym = Pseudonymiser(PSEUDONYM_KEY.encode())
    assert persons, "the scenario has persons to look for"
    for person in persons:
        assert person not in payload, person
        assert pseudonym(person) not in payload, person
    assert not re.search(r"p_[0-9a-f]{16,}", payload)
    assert not re.search(r"\b(emp|pat)-\d", payload)

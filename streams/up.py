"""`outcome-monitor up`: the whole local stack in one command, stopped cleanly on Ctrl-C.

Starts the project's Kafka broker (unless one answers), Prometheus and Alertmanager (when Debian's
`prometheus` and `prometheus-alertmanager` are installed) with a webhook receiver that logs the alerts,
the worker and the live simulator; prints where to look.
"""

from __future__ import annotations

import http.server
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from streams.core.handling.access import token_digest
from streams.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
PROMETHEUS_PORT = 9090
ALERTMANAGER_PORT = 9095  # not Alertmanager's usual 9093: that is the local Kafka's controller (kafka.sh)
ALERT_WEBHOOK_PORT = 9096  # where prometheus/alertmanager.yml sends every alert


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _wait_http(url: str, timeout: float, proc: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


class _AlertLog(http.server.BaseHTTPRequestHandler):
    """The demo's webhook receiver: each Alertmanager notification as one line in alerts.jsonl, and a
    line per alert on the terminal."""

    out: Path

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.out.open("ab") as fh:
            fh.write(body.strip() + b"\n")
        try:
            alerts = json.loads(body).get("alerts", [])
        except (ValueError, AttributeError):
            alerts = []
        for alert in alerts:
            labels = alert.get("labels", {})
            where = f" unit={labels['unit']}" if "unit" in labels else ""
            print(f"up: alert {alert.get('status')} {labels.get('alertname')}{where}", flush=True)
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's signature
        pass


#: The demo's inbox accounts: user -> (role, units, may reveal). Two see every unit of their role; two
#: see one unit each (the simulator's drifting workplace, and a care unit), so a unit scope can be tried.
DEMO_ACCOUNTS: dict[str, tuple[str, list[str], bool]] = {
    "demo-admin": ("admin", ["*"], True),
    "demo-hr": ("hr", ["*"], False),
    "demo-care": ("care", ["*"], True),
    "demo-hr-unit": ("hr", ["hr-unit-03"], False),
    "demo-care-unit": ("care", ["care-unit-00"], False),
}


class Stack:
    def __init__(self, settings: Settings, logs: Path) -> None:
        self.settings = settings
        self.logs = logs
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.started_kafka = False
        self.webhook: http.server.HTTPServer | None = None
        self.inbox_tokens: dict[str, str] = {}

    def _spawn(self, name: str, argv: list[str], extra: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("ab")
        # The local demo stack may run on the public demo key (a key set in the environment wins).
        env = {**os.environ, "OUTCOME_MONITOR_ALLOW_DEMO_KEY": "true", **(extra or {})}
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                start_new_session=True, env=env)
        self.procs.append((name, proc))
        return proc

    def kafka(self) -> None:
        host, port = self.settings.bootstrap_servers.split(",")[0].rsplit(":", 1)
        if _answers(host, int(port)):
            print(f"up: Kafka already answers on {host}:{port}; using it")
            return
        subprocess.run(["bash", str(ROOT / "scripts" / "kafka.sh"), "start"], check=True)
        self.started_kafka = True

    @staticmethod
    def _startable(name: str, package: str, config: Path, port: int) -> str | None:
        """The Debian package's binary, if it is installed and its port is free (else say why not)."""
        binary = shutil.which(package)
        if binary is None or not config.exists():
            print(f"up: {name} not installed (apt-get install {package}); skipping it")
            return None
        if _answers("127.0.0.1", port):
            print(f"up: something already answers on :{port}; not starting {name}")
            return None
        return binary

    def prometheus(self) -> str | None:
        config = ROOT / "prometheus" / "prometheus.yml"
        binary = self._startable("Prometheus", "prometheus", config, PROMETHEUS_PORT)
        if binary is None:
            return None
        data = self.logs / "prometheus-data"
        self._spawn("prometheus", [binary, f"--config.file={config}", f"--storage.tsdb.path={data}",
                                   f"--web.listen-address=127.0.0.1:{PROMETHEUS_PORT}"])
        return f"http://127.0.0.1:{PROMETHEUS_PORT}"

    def alertmanager(self) -> str | None:
        config = ROOT / "prometheus" / "alertmanager.yml"
        binary = self._startable("Alertmanager", "prometheus-alertmanager", config, ALERTMANAGER_PORT)
        if binary is None:
            return None
        if _answers("127.0.0.1", ALERT_WEBHOOK_PORT):
            print(f"up: something already answers on :{ALERT_WEBHOOK_PORT}; alerts go to it")
        else:
            handler = type("AlertLog", (_AlertLog,), {"out": self.logs / "alerts.jsonl"})
            self.webhook = http.server.HTTPServer(("127.0.0.1", ALERT_WEBHOOK_PORT), handler)
            threading.Thread(target=self.webhook.serve_forever, daemon=True).start()
        data = self.logs / "alertmanager-data"
        # No cluster: its default port 9094 is the local Kafka's SASL listener.
        self._spawn("alertmanager", [binary, f"--config.file={config}", f"--storage.path={data}",
                                     f"--web.listen-address=127.0.0.1:{ALERTMANAGER_PORT}",
                                     "--cluster.listen-address="])
        return f"http://127.0.0.1:{ALERTMANAGER_PORT}"

    def inbox_accounts(self) -> dict[str, str]:
        """Demo sign-ins for the inbox (fresh random tokens each run, in a file only the user may read)
        and a reveal key, unless the environment names its own files."""
        if os.environ.get("OUTCOME_MONITOR_INBOX__ACCOUNTS_FILE"):
            return {}
        tokens = {user: secrets.token_hex(24) for user in DEMO_ACCOUNTS}
        accounts = {"accounts": [{"token_sha256": token_digest(tok), "user": user, "role": DEMO_ACCOUNTS[user][0],
                                  "units": DEMO_ACCOUNTS[user][1], "may_reveal": DEMO_ACCOUNTS[user][2]}
                                 for user, tok in tokens.items()]}
        files = {"accounts.json": json.dumps(accounts, indent=2),
                 "inbox-tokens.txt": "".join(f"{u}\t{t}\n" for u, t in tokens.items()),
                 "reveal.key": secrets.token_hex(32)}
        for name, text in files.items():
            path = self.logs / name
            path.write_text(text)
            path.chmod(0o600)
        self.inbox_tokens = tokens
        return {"OUTCOME_MONITOR_INBOX__ACCOUNTS_FILE": str(self.logs / "accounts.json"),
                "OUTCOME_MONITOR_INBOX__REVEAL_KEY_FILE": str(self.logs / "reveal.key")}

    def worker(self) -> str:
        exe = str(Path(sys.executable).with_name("outcome-monitor"))
        proc = self._spawn("worker", [exe, "--log-level", "INFO", "worker"], self.inbox_accounts())
        base = f"http://{self.settings.web_host}:{self.settings.web_port}"
        if not _wait_http(f"{base}/health", 180, proc):
            raise RuntimeError(f"the worker did not become ready; see {self.logs / 'worker.log'}")
        return base

    def simulator(self, rate: float, days: int) -> None:
        exe = str(Path(sys.executable).with_name("outcome-monitor"))
        self._spawn("simulator", [exe, "simulate", "--rate", str(rate), "--days", str(days),
                                  "--malformed", "20"])

    def stop(self) -> None:
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
            print(f"up: stopped {name}")
        if self.webhook is not None:
            self.webhook.shutdown()
            self.webhook.server_close()
        if self.started_kafka:
            subprocess.run(["bash", str(ROOT / "scripts" / "kafka.sh"), "stop"], check=False)


def events_already_in(settings: Settings) -> int:
    """Records in the input topic before the simulator starts (an earlier run's), 0 without the topic."""
    from kafka import KafkaConsumer, TopicPartition  # here: only `up` asks, once

    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False,
                             client_id="outcome-monitor-up", **settings.kafka.kafka_python())
    try:
        tps = [TopicPartition(settings.topics.events, p)
               for p in sorted(consumer.partitions_for_topic(settings.topics.events) or ())]
        if not tps:
            return 0
        ends, begins = consumer.end_offsets(tps), consumer.beginning_offsets(tps)
        return sum(ends[tp] - begins[tp] for tp in tps)
    finally:
        consumer.close()


def _command_as_typed() -> str:
    """How to call this installation's CLI from the current directory: `outcome-monitor` when it is on PATH,
    else its path (`.venv/bin/outcome-monitor` after `make install`)."""
    exe = Path(sys.executable).with_name("outcome-monitor")
    if shutil.which("outcome-monitor") == str(exe):
        return "outcome-monitor"
    return str(exe.relative_to(Path.cwd())) if exe.is_relative_to(Path.cwd()) else str(exe)


def run(settings: Settings, rate: float, days: int) -> int:
    logs = Path(settings.data_dir) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    stack = Stack(settings, logs)
    interrupted = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal interrupted
        interrupted = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        stack.kafka()
        alertmanager = stack.alertmanager()
        prometheus = stack.prometheus()
        base = stack.worker()
        earlier = events_already_in(settings)
        stack.simulator(rate, days)
        t = settings.topics
        cli = _command_as_typed()
        alerts = (f"{alertmanager}  (Alertmanager; the webhook logs to {logs / 'alerts.jsonl'})"
                  if alertmanager else "(Alertmanager not started)")
        inbox = (f"(sign in with a token from {logs / 'inbox-tokens.txt'}: {', '.join(DEMO_ACCOUNTS)})"
                 if stack.inbox_tokens else "(accounts from OUTCOME_MONITOR_INBOX__ACCOUNTS_FILE)")
        print(f"""
outcome-monitor is running (Ctrl-C stops everything).
  inbox       {base}/inbox   {inbox}
  metrics     {base}/metrics
  health      {base}/health
  prometheus  {prometheus or "(not installed)"}
  alerts      {alerts}
  flags       {cli} flags --follow          (topic {t.flags})
  dead letters {cli} flags --topic {t.rejected} --follow
  logs        {logs}/
Grafana: `docker compose up` opens the boards at http://localhost:3000 (see README).
""", flush=True)
        if earlier:
            print(f"""up: {settings.topics.events} already holds {earlier:,} events of an earlier run.
    The simulator sends the same simulated history again, and the worker, which kept the earlier run's
    state, rejects it as duplicates or too late: the boards show the earlier run and will not move.
    To start over, stop this (Ctrl-C), run `bash scripts/kafka.sh stop --wipe` (deletes every topic of
    the local broker) and `rm -rf {settings.data_dir}`, then `make demo` again.
""", flush=True)
        simulating = True
        while not interrupted:
            for name, proc in stack.procs:
                if proc.poll() is None:
                    continue
                if name != "simulator":
                    print(f"up: {name} exited with {proc.returncode}; see {logs / (name + '.log')}")
                    return 1
                if simulating:
                    simulating = False
                    ended = (f"has sent its {days} days of events; the boards stop moving" if proc.returncode == 0
                             else f"exited with {proc.returncode}; see {logs / 'simulator.log'}")
                    print(f"up: the simulator {ended}; everything else keeps running (Ctrl-C stops it)", flush=True)
            time.sleep(0.5)
        return 0
    finally:
        stack.stop()

"""Kafka with credentials: the project's broker also listens with SASL_PLAINTEXT (mechanism PLAIN) on
127.0.0.1:9094 (scripts/kafka.sh). A client without credentials is refused there; the worker and
`publish` given `OUTCOME_MONITOR_KAFKA__*` settings run through it; the password is never logged."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
from pathlib import Path

import pytest
from kafka import KafkaProducer
from kafka.errors import KafkaError

from tests.integration.live import BIN, ROOT, Namespace, Worker, final_flags, wait_drained

pytestmark = pytest.mark.integration

SASL_BOOTSTRAP = "127.0.0.1:9094"
USER, PASSWORD = "monitor", "local-dev-sasl-password"  # scripts/kafka.sh's defaults (loopback only)


def sasl_listener_answers() -> bool:
    with socket.socket() as s:
        s.settimeout(1.0)
        return s.connect_ex(("127.0.0.1", 9094)) == 0


@pytest.fixture(scope="module", autouse=True)
def sasl_listener() -> None:
    """A broker started by an older checkout has no SASL listener: start it again with this one's config."""
    if not sasl_listener_answers():
        subprocess.run(["bash", str(ROOT / "scripts" / "kafka.sh"), "stop"], check=True)
        subprocess.run(["bash", str(ROOT / "scripts" / "kafka.sh"), "start"], check=True,
                       env={**os.environ, "KAFKA_START_TIMEOUT_S": "300"})
    assert sasl_listener_answers()


def access_env(password: str = PASSWORD) -> dict[str, str]:
    return {"OUTCOME_MONITOR_BOOTSTRAP_SERVERS": SASL_BOOTSTRAP,
            "OUTCOME_MONITOR_KAFKA__SECURITY_PROTOCOL": "SASL_PLAINTEXT",
            "OUTCOME_MONITOR_KAFKA__SASL_MECHANISM": "PLAIN",
            "OUTCOME_MONITOR_KAFKA__SASL_USERNAME": USER,
            "OUTCOME_MONITOR_KAFKA__SASL_PASSWORD": password}


@pytest.mark.parametrize("credentials", [{}, {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN",
                                              "sasl_plain_username": USER, "sasl_plain_password": "wrong"}])
def test_a_client_without_the_right_credentials_is_refused(credentials: dict[str, str]) -> None:
    with pytest.raises(KafkaError):
        producer = KafkaProducer(bootstrap_servers=SASL_BOOTSTRAP, request_timeout_ms=4000, max_block_ms=4000,
                                 **credentials)
        producer.send("care.events", b"x").get(timeout=4)


def test_the_worker_and_publish_with_credentials_run_through_the_sasl_listener(
        ns: Namespace, workers: list[Worker], tmp_path: Path) -> None:
    worker = Worker(ns, tmp_path, **access_env())
    workers.append(worker.start())
    worker.wait_ready()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps({
        "event_id": f"ed-{i}", "event_type": "emergency_visit", "unit_id": "vc-1", "person_id": "pat-5",
        "occurred_at": (now - dt.timedelta(days=40 - 10 * i)).isoformat()}) + "\n" for i in range(4)))
    env = {**ns.env(tmp_path, 0), **access_env()}
    result = subprocess.run([str(BIN / "outcome-monitor"), "publish", str(events), "--topic", ns.events],
                            capture_output=True, text=True, env=env, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    wait_drained(ns, workers)  # read over the plaintext listener of the same broker
    assert [f["rule"] for f in final_flags(ns).values()] == ["frequent_emergency_visits"]
    assert PASSWORD not in worker.tail(100_000) and PASSWORD not in result.stdout + result.stderr

"""The notifier delivers one batch to a real SMTP server (aiosmtpd) and a real HTTP server, both local."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import json
import logging
import queue
import re
import ssl
import subprocess
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from pydantic import SecretStr

from streams.core.notify import NotificationRoute
from streams.models.flags import EventsInWindowEvidence, Flag
from streams.models.vocab import Rule
from streams.notify import NotificationSettings, Notifier, SmtpSettings
from tests.integration.live import free_port

INBOX = "https://inbox.example.se/inbox"
PSEUDONYM = re.compile(r"p_[0-9a-f]{8,}")
WAIT_S = 60.0  # generous: only a bound on a failure, never a timed assertion


@pytest.fixture(scope="session", autouse=True)
def kafka() -> None:
    """These tests need no broker (overrides the conftest's)."""


class Mailbox:
    def __init__(self) -> None:
        self.received: queue.Queue[tuple[list[str], EmailMessage]] = queue.Queue()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.put((list(envelope.rcpt_tos), message))
        return "250 OK"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.fixture
def webhook() -> Iterator[tuple[queue.Queue[tuple[int, str, dict[str, Any]]], str]]:
    posts: queue.Queue[tuple[int, str, dict[str, Any]]] = queue.Queue()

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status = 500 if self.path == "/broken" else 200
            posts.put((status, self.path, json.loads(body)))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield posts, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def flags(n: int) -> list[Flag]:
    units = ["hemtjanst-norr", "hemtjanst-syd", "akuten"]
    return [Flag(flag_id=f"f_{i:024x}", rule=Rule.FREQUENT_EMERGENCY_VISITS, unit_id=units[i % 3],
                 subject_kind="person", subject_id=f"p_{i:032x}",
                 raised_at=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
                 evidence=EventsInWindowEvidence(window_start=dt.date(2025, 1, 1), window_end=dt.date(2025, 3, 1),
                                                 events=4, threshold=4, event_ids=[f"ev-{i}-{k}" for k in range(4)]))
            for i in range(n)]


def no_personal_data(text: str) -> None:
    assert not PSEUDONYM.search(text) and "ev-" not in text and "f_0000" not in text


def test_a_batch_reaches_the_webhook_and_the_mailbox(mailbox: tuple[Mailbox, int],
                                                     webhook: tuple[queue.Queue[Any], str]) -> None:
    box, smtp_port = mailbox
    posts, base = webhook
    settings = NotificationSettings(
        routes=(NotificationRoute(name="chat", channel="webhook", target=f"{base}/hook"),
                NotificationRoute(name="norr", channel="email", target="norr@example.se",
                                  units=("hemtjanst-norr",))),
        inbox_url=INBOX, window_s=60.0, unit_names={"hemtjanst-norr": "Hemtjänst Norr"},
        smtp=SmtpSettings(host="127.0.0.1", port=smtp_port, from_address="monitor@example.se", starttls=False))
    notifier = Notifier(settings)

    async def scenario() -> int:
        await notifier.offer(flags(3000), now=0.0)
        await notifier.offer(flags(3000), now=1.0)  # a re-delivery changes nothing
        return await notifier.tick(now=60.0)

    assert asyncio.run(scenario()) == 2

    status, path, body = posts.get(timeout=WAIT_S)
    assert (status, path) == (200, "/hook")
    assert body["total"] == 3000 and body["link"] == INBOX
    assert sorted((u["unit_id"], u["count"]) for u in body["units"]) == [
        ("akuten", 1000), ("hemtjanst-norr", 1000), ("hemtjanst-syd", 1000)]
    assert body["text"].startswith("3000 nya flaggor i 3 enheter / 3000 new flags in 3 units")
    assert f"Hemtjänst Norr: 1000  {INBOX}?unit=hemtjanst-norr" in body["text"]
    no_personal_data(json.dumps(body, ensure_ascii=False))

    recipients, message = box.received.get(timeout=WAIT_S)
    assert recipients == ["norr@example.se"]
    assert message["Subject"] == "outcome-monitor: 1000 new flags"
    assert message["From"] == "monitor@example.se"
    text = message.get_content()
    assert "1000 nya flaggor för Hemtjänst Norr / 1000 new flags for Hemtjänst Norr" in text
    assert f"{INBOX}?unit=hemtjanst-norr" in text
    no_personal_data(message.as_string())
    assert posts.empty() and box.received.empty()  # one message per route, whatever the number of flags


def test_failed_deliveries_are_logged_without_content_and_never_raised(
        webhook: tuple[queue.Queue[Any], str], caplog: pytest.LogCaptureFixture) -> None:
    posts, base = webhook
    settings = NotificationSettings(
        routes=(NotificationRoute(name="broken", channel="webhook", target=f"{base}/broken"),
                NotificationRoute(name="closed", channel="webhook", target=f"http://127.0.0.1:{free_port()}/x"),
                NotificationRoute(name="mail", channel="email", target="a@example.se")),
        inbox_url=INBOX, smtp=SmtpSettings(host="127.0.0.1", port=free_port(), from_address="m@example.se",
                                           starttls=False, timeout_s=5.0))
    notifier = Notifier(settings)

    async def scenario() -> int:
        await notifier.offer(flags(10), now=0.0)
        return await notifier.flush(now=0.0)

    with caplog.at_level(logging.WARNING, logger="streams.notify"):
        assert asyncio.run(scenario()) == 0
    assert notifier.failed == 3
    assert posts.get(timeout=WAIT_S)[0] == 500
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for name in ("broken", "closed", "mail"):
        assert f"route {name}:" in logged
    assert "HTTP 500" in logged
    assert base not in logged and "127.0.0.1" not in logged and "a@example.se" not in logged
    assert "nya flaggor" not in logged and "Hemtj" not in logged


def test_starttls_and_login(tmp_path: Path) -> None:
    """The password only after STARTTLS, the server's certificate checked against the configured CA."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    logins: list[tuple[bytes, bytes, bool]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        logins.append((data.login, data.password, session.ssl is not None))
        return AuthResult(success=data.password == b"s3cret")

    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port, tls_context=server_tls, require_starttls=True,
                            authenticator=authenticator, auth_required=True)
    controller.start()
    try:
        settings = NotificationSettings(
            routes=(NotificationRoute(name="hr", channel="email", target="hr@example.se"),), inbox_url=INBOX,
            smtp=SmtpSettings(host="127.0.0.1", port=port, from_address="monitor@example.se", cafile=str(cert),
                              user="monitor", password=SecretStr("s3cret")))
        notifier = Notifier(settings)

        async def scenario() -> int:
            await notifier.offer(flags(4), now=0.0)
            return await notifier.flush(now=0.0)

        assert asyncio.run(scenario()) == 1
        recipients, message = box.received.get(timeout=WAIT_S)
    finally:
        controller.stop()
    assert recipients == ["hr@example.se"] and message["Subject"] == "outcome-monitor: 4 new flags"
    assert logins == [(b"monitor", b"s3cret", True)]

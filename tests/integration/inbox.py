"""What the inbox tests share: accounts, a reveal key, the events that raise flags, and an API client
that speaks HTTP to a worker as the inbox page does."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streams.core.handling.access import token_digest
from streams.settings import Topics
from tests.helpers import event
from tests.integration.live import Namespace, Worker, ensure_broker

TOKENS = {  # user -> (token, role, units, may_reveal)
    "hanna.hr": ("tok-hanna-0123456789abcdef0123456789", "hr", ["unit-hr"], False),
    "olle.hr": ("tok-olle-0123456789abcdef01234567890", "hr", ["unit-elsewhere"], False),
    "cecilia.care": ("tok-cecilia-0123456789abcdef012345678", "care", ["*"], True),
    "ada.admin": ("tok-ada-0123456789abcdef0123456789012", "admin", ["*"], True),
}


def token(user: str) -> str:
    return TOKENS[user][0]


def inbox_env(workdir: Path) -> dict[str, str]:
    """A worker's settings for flag handling: the accounts file and a reveal key, written to `workdir`."""
    accounts = {"accounts": [{"token_sha256": token_digest(tok), "user": user, "role": role, "units": units,
                              "may_reveal": reveal} for user, (tok, role, units, reveal) in TOKENS.items()]}
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "accounts.json").write_text(json.dumps(accounts))
    key = workdir / "reveal.key"
    if not key.exists():
        key.write_text(os.urandom(32).hex())
    return {"OUTCOME_MONITOR_INBOX__ACCOUNTS_FILE": str(workdir / "accounts.json"),
            "OUTCOME_MONITOR_INBOX__REVEAL_KEY_FILE": str(key)}


def sick_spells(person: str, unit: str, first_day: int) -> list[str]:
    """Six short sick-leave occasions a fortnight apart: a repeated_sick_leave flag at the sixth."""
    return [event("sick_leave", first_day + 14 * k, person_id=person, unit_id=unit) for k in range(6)]


def ed_visits(person: str, unit: str, first_day: int) -> list[str]:
    """Four emergency visits a month apart: a frequent_emergency_visits flag (a care rule)."""
    return [event("emergency_visit", first_day + 30 * k, person_id=person, unit_id=unit) for k in range(4)]


def enrolment(person: str, unit: str, day: int, status: str = "joined") -> str:
    return event("enrollment", day, person_id=person, unit_id=unit, program="health-support", status=status)


@dataclass
class Answer:
    status: int
    body: Any


class Api:
    def __init__(self, worker: Worker) -> None:
        self.worker = worker

    def call(self, method: str, path: str, user: str | None = None, body: object | bytes | None = None,
             raw_token: str | None = None) -> Answer:
        data = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.worker.url(path), data=data, method=method)
        auth = raw_token if raw_token is not None else token(user) if user else None
        if auth is not None:
            req.add_header("Authorization", f"Bearer {auth}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return Answer(r.status, json.loads(r.read() or b"null"))
        except urllib.error.HTTPError as e:
            text = e.read()
            try:
                return Answer(e.code, json.loads(text))
            except ValueError:
                return Answer(e.code, text.decode(errors="replace"))

    def get(self, path: str, user: str | None = None, **kw: Any) -> Answer:
        return self.call("GET", path, user, **kw)

    def post(self, path: str, user: str | None, body: object | bytes | None, **kw: Any) -> Answer:
        return self.call("POST", path, user, body, **kw)

    def flags(self, user: str, query: str = "") -> list[dict[str, Any]]:
        answer = self.get(f"/api/flags{query}", user)
        assert answer.status == 200, answer
        return list(answer.body["flags"])

    def wait_serving(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.worker.assert_alive()
            try:
                if self.get("/api/me", "ada.admin").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"the inbox did not serve in {timeout}s; log: {self.worker.tail()}")

    def wait_flags(self, user: str, predicate: Any, timeout: float = 180, query: str = "") -> list[dict[str, Any]]:
        """Until the user's list satisfies `predicate` (a condition, not a time: fails after `timeout`)."""
        deadline = time.monotonic() + timeout
        found: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            self.worker.assert_alive()
            found = self.flags(user, query)
            if predicate(found):
                return found
            time.sleep(0.5)
        raise AssertionError(f"{user}'s flags never matched; last: {found}; log: {self.worker.tail()}")


@contextmanager
def serving_worker(workdir: Path) -> Iterator[tuple[Namespace, Worker, Api]]:
    """A worker of its own namespace with the test accounts and a reveal key, once its inbox serves."""
    ensure_broker()
    ns = Namespace()
    worker = Worker(ns, workdir, **inbox_env(workdir)).start()
    try:
        worker.wait_ready(180)
        api = Api(worker)
        api.wait_serving()
        yield ns, worker, api
    finally:
        worker.stop()


def write_events(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def ns_inbox_topics(ns: Namespace) -> dict[str, str]:
    """The flag-handling topics of a namespace, named as the worker names them (beside its flags topic)."""
    topics = Topics(flags=ns.flags)
    return {name: topics.beside_flags(name) for name in ("flag-actions", "audit", "consent", "identities")}

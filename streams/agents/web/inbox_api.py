"""The recipients' JSON API on the worker's web server (and the inbox page that uses it).

Every call carries `Authorization: Bearer <token>`; tokens map to a user, a role and a unit scope
(`inbox.accounts_file`). No or an unknown token: 401. A flag outside the user's role, scope or the
person's consent: 404, exactly as a flag that does not exist (its existence is not revealed); access is
checked before the body, so such a user gets that 404 whatever they send. A transition the flag's state
does not allow: 409. A malformed body (a snooze day not after today, a note or a reveal's reason holding a
personnummer included): 400 with what is wrong, before anything is written.
Every read of a person-level flag, every reveal and every action is written to the audit topic *before*
the answer goes out (no audit, no data: 503). Answers carry pseudonyms only; a source key leaves only
through a reveal, to a user allowed it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any, TypeVar

from faust.web import Request, Response, View
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from streams.agents.runtime.context import WorkerContext
from streams.agents.runtime.partitioning import partition_of
from streams.agents.web.inbox_view import InboxView
from streams.core.handling.access import Accounts, Role, User
from streams.core.handling.board import FlagEntry
from streams.core.handling.lifecycle import HandlingState, identifying, malformed
from streams.core.handling.listing import page_of, parse_query
from streams.core.identity_vault import IdentityVault
from streams.models.handling import ActionRequest, AuditEntry, AuditKind, FlagAction

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)


class RevealRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str = Field(min_length=5, max_length=500, description="Why you need to know who this is.")


class Inbox:
    """What the views share: the read model, the accounts, and the way to Kafka."""

    def __init__(self, p: WorkerContext, view: InboxView, accounts: Accounts, vault: IdentityVault | None) -> None:
        self.p, self.view, self.accounts, self.vault = p, view, accounts, vault
        self.audit_written: dict[int, int] = {}  # partition -> last offset of an audit entry written here

    def user(self, request: Request) -> User | None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        return self.accounts.user(token.strip()) if scheme.lower() == "bearer" else None

    async def write(self, topic: str, key: str, value: bytes) -> tuple[int, int]:
        """Send one record and wait for the broker's acknowledgement: (partition, offset)."""
        fut = await self.p.send(topic, key, value)
        meta = await fut
        return int(meta.partition), int(meta.offset)

    async def audit(self, user: User, kind: AuditKind, flag_ids: list[str], reason: str = "") -> None:
        entry = AuditEntry(kind=kind, user=user.name, role=user.role.value, at=dt.datetime.now(dt.UTC),
                           flag_ids=flag_ids, reason=reason)
        partition, offset = await self.write(self.p.names.audit, user.name, entry.model_dump_json().encode())
        self.audit_written[partition] = max(offset, self.audit_written.get(partition, -1))

    async def audit_read_back(self) -> bool:
        """Until the view holds every audit entry this worker wrote (another worker's come a moment later)."""
        topic = self.p.names.audit
        return all([await self.view.wait_for(topic, part, off) for part, off in list(self.audit_written.items())])


def _error(web: Any, status: int, message: str) -> Response:
    headers = {"WWW-Authenticate": 'Bearer realm="outcome-monitor"'} if status == 401 else None
    return web.json({"error": message}, status=status, headers=headers)


async def body_of(model: type[M], request: Request) -> M | str:
    """The request's body as `model`, or what is wrong with it (for a 400)."""
    try:
        return model.model_validate_json(await request.read())
    except ValidationError as exc:
        first = exc.errors()[0]
        return f"{'.'.join(str(x) for x in first['loc']) or 'body'}: {first['msg']}"


def summary(entry: FlagEntry, state: HandlingState, today: dt.date) -> dict[str, Any]:
    f = entry.flag
    return {"flag_id": f.flag_id, "rule": f.rule.value, "unit_id": f.unit_id, "subject_kind": f.subject_kind,
            "subject_id": f.subject_id, "raised_at": f.raised_at.isoformat(), "flag_status": f.status.value,
            "status": state.status_on(today).value, "version": len(entry.versions),
            "revised_because": f.revised_because.value if f.revised_because else None}


def detail(entry: FlagEntry, state: HandlingState, today: dt.date) -> dict[str, Any]:
    return {**summary(entry, state, today),
            "flag": json.loads(entry.flag.model_dump_json()),
            "handling": {"status": state.status_on(today).value,
                         "resolution": state.resolution.value if state.resolution else None,
                         "snoozed_until": state.snoozed_until.isoformat() if state.snoozed_until else None,
                         "history": [{"at": h.at.isoformat(), "by": h.by, "action": h.action, "note": h.note,
                                      "resolution": h.resolution,
                                      "until": h.until.isoformat() if h.until else None} for h in state.history]},
            "versions": [{"version": v.number, "seen_at": v.seen_at.isoformat(), "status": v.status,
                          "revised_because": v.revised_because, "changed": list(v.changed)}
                         for v in entry.versions]}


Handler = Callable[..., Awaitable[Response]]


def register(p: WorkerContext, view: InboxView, accounts: Accounts, vault: IdentityVault | None) -> Inbox:
    inbox = Inbox(p, view, accounts, vault)
    app, board = p.app, view.board

    def authed(method: Handler) -> Handler:
        async def wrapped(self: View, request: Request, **kw: Any) -> Response:
            user = inbox.user(request)
            if user is None:
                return _error(self.web, 401, "sign in with a valid token (Authorization: Bearer <token>)")
            if not view.ready.is_set():
                return _error(self.web, 503, "the inbox is still reading its history from Kafka; try again")
            return await method(self, request, user, **kw)
        return wrapped

    @app.page("/api/me")
    class Me(View):
        @authed
        async def get(self, request: Request, user: User) -> Response:
            return self.json({"user": user.name, "role": user.role.value, "units": sorted(user.units),
                              "may_reveal": user.may_reveal})

    @app.page("/api/flags")
    class Flags(View):
        @authed
        async def get(self, request: Request, user: User) -> Response:
            query = parse_query(request.query, p.config.timezone)
            if isinstance(query, str):
                return _error(self.web, 400, query)
            today = dt.datetime.now(dt.UTC).date()
            visible = board.listing(user, today)
            found = page_of(board.matching(visible, today, query.filter), query,
                            lambda fid: board.state(fid).status_on(today))
            persons = [e.flag.flag_id for e in found.entries if e.flag.subject_kind == "person"]
            if persons:  # what the page shows is what was read
                await inbox.audit(user, AuditKind.LIST, persons)
            units = sorted({e.flag.unit_id for e in visible})
            return self.json({"flags": [summary(e, board.state(e.flag.flag_id), today) for e in found.entries],
                              "total": found.total, "page": found.page, "pages": found.pages,
                              "per_page": query.per_page, "units": units})

    @app.page("/api/flags/{flag_id}")
    class OneFlag(View):
        @authed
        async def get(self, request: Request, user: User, flag_id: str) -> Response:
            entry = board.visible(user, flag_id)
            if entry is None:
                return _error(self.web, 404, "no such flag")
            if entry.flag.subject_kind == "person":
                await inbox.audit(user, AuditKind.READ, [flag_id])
            return self.json(detail(entry, board.state(flag_id), dt.datetime.now(dt.UTC).date()))

    @app.page("/api/flags/{flag_id}/actions")
    class Actions(View):
        @authed
        async def post(self, request: Request, user: User, flag_id: str) -> Response:
            if board.visible(user, flag_id) is None:  # before the body: the same 404 whatever is sent
                return _error(self.web, 404, "no such flag")
            body = await body_of(ActionRequest, request)
            if isinstance(body, str):
                return _error(self.web, 400, body)
            now = dt.datetime.now(dt.UTC)
            fault = malformed(body.action, today=now.date(), resolution=body.resolution, until=body.until,
                              note=body.note)
            if fault is not None:
                return _error(self.web, 400, fault)
            refusal = board.refusal(flag_id, body.action, now.date(), body.resolution, body.until)
            if refusal is not None:
                return _error(self.web, 409, refusal.reason)
            action = FlagAction(action_id=uuid.uuid4().hex, flag_id=flag_id, action=body.action, by=user.name,
                                at=now, note=body.note, resolution=body.resolution, until=body.until)
            await inbox.audit(user, AuditKind.ACTION, [flag_id], body.action.value)
            partition, offset = await inbox.write(p.names.flag_actions, flag_id, action.model_dump_json().encode())
            if not await view.wait_for(p.names.flag_actions, partition, offset):
                return _error(self.web, 503, "the action was recorded but is not readable yet; reload shortly")
            if action.action_id not in board.state(flag_id).action_ids:  # another action came first
                reason = next((r for a, r in board.refused if a.action_id == action.action_id), "refused")
                return _error(self.web, 409, reason)
            entry = board.visible(user, flag_id)
            assert entry is not None
            return self.json(detail(entry, board.state(flag_id), now.date()))

    @app.page("/api/flags/{flag_id}/reveal")
    class Reveal(View):
        @authed
        async def post(self, request: Request, user: User, flag_id: str) -> Response:
            entry = board.visible(user, flag_id)
            if entry is None:  # access before the body: the same 404 whatever is sent
                return _error(self.web, 404, "no such flag")
            if not user.may_reveal:
                await inbox.audit(user, AuditKind.DENIED, [flag_id], "reveal without the right to")
                return _error(self.web, 403, "your account may not reveal who a person is")
            body = await body_of(RevealRequest, request)
            if isinstance(body, str):
                return _error(self.web, 400, body)
            written = identifying("reason", body.reason)  # before the audit entry that would keep it
            if written is not None:
                return _error(self.web, 400, written)
            if entry.flag.subject_kind != "person":
                return _error(self.web, 409, "a unit flag is about no person")
            sealed = view.sealed.get(entry.flag.subject_id)
            key = vault.open(entry.flag.subject_id, sealed) if vault is not None and sealed is not None else None
            if key is None:
                return _error(self.web, 409, "this person's source key is not kept (no reveal key was set when "
                                             "their events came in)")
            await inbox.audit(user, AuditKind.REVEAL, [flag_id], body.reason)
            log.info("inbox: %s revealed the source key of the subject of flag %s", user.name, flag_id)
            return self.json({"flag_id": flag_id, "source_person_id": key})

    @app.page("/api/audit")
    class Audit(View):
        @authed
        async def get(self, request: Request, user: User) -> Response:
            if user.role is not Role.ADMIN:
                return _error(self.web, 403, "only admins read the audit log")
            if not await inbox.audit_read_back():
                return _error(self.web, 503, "the audit log is still being read; try again")
            q = request.query
            rows = [a for a in view.audit if (not q.get("flag_id") or q["flag_id"] in a.flag_ids)
                    and (not q.get("user") or a.user == q["user"])]
            return self.json({"entries": [json.loads(a.model_dump_json()) for a in rows[-1000:]]})

    @app.page("/inbox")
    async def inbox_page(web: Any, request: Any) -> Any:
        page = resources.files("streams.agents.web").joinpath("inbox.html").read_text(encoding="utf-8")
        return web.html(page, headers={"Content-Security-Policy": "default-src 'self'; style-src 'self' "
                                       "'unsafe-inline'; script-src 'self' 'unsafe-inline'",
                                       "Cache-Control": "no-store"})

    return inbox


def notify_owned(p: WorkerContext, offer: Callable[[Any], None]) -> Callable[[Any], None]:
    """Only the worker that holds a flag's partition of the flags topic announces it (one per flag)."""
    def on_new_flag(flag: Any) -> None:
        if partition_of(flag.flag_id, p.partitions) in p.assigned(p.names.flags):
            offer(flag)
    return on_new_flag

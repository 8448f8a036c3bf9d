"""Notifications without personal data: "3 nya flaggor för Hemtjänst Norr / 3 new flags for Hemtjänst Norr"
with a link to the inbox, routed by rule and unit, batched per route so a backfill sends one message.

Pure: time is passed in (seconds of a monotonic clock), nothing is sent here (streams/notify/ sends). A
notification knows of a flag only its id, rule and unit (`FlagNotice`): never the subject, the pseudonym or
the evidence, so no message can carry them.
"""

from __future__ import annotations

import re
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, model_validator

from streams.models.flags import Flag, FlagStatus
from streams.models.vocab import Rule

ANY: Final = "*"
Channel = Literal["webhook", "email"]
EMAIL_ADDRESS = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+")


class NotificationRoute(BaseModel):
    """Where new flags of some rules and units are announced: one webhook URL or one e-mail address."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="Named in logs instead of the target.")
    channel: Channel
    target: str = Field(repr=False, min_length=3, max_length=2048,
                        description="An http(s) URL (webhook) or one e-mail address; never logged.")
    rules: tuple[Rule | Literal["*"], ...] = Field(default=(ANY,), min_length=1)
    units: tuple[str, ...] = Field(default=(ANY,), min_length=1)

    @model_validator(mode="after")
    def _target_fits_channel(self) -> NotificationRoute:
        if self.channel == "webhook" and not re.match(r"https?://[^\s/]+", self.target):
            raise ValueError(f"route {self.name}: a webhook target is an http:// or https:// URL")
        if self.channel == "email" and not EMAIL_ADDRESS.fullmatch(self.target):
            raise ValueError(f"route {self.name}: an email target is one e-mail address")
        return self

    def matches(self, rule: Rule, unit_id: str) -> bool:
        return (ANY in self.rules or rule in self.rules) and (ANY in self.units or unit_id in self.units)


@dataclass(frozen=True, slots=True)
class FlagNotice:
    """All a notification may know of a flag. `open` is false for a withdrawn flag."""

    flag_id: str
    rule: Rule
    unit_id: str
    open: bool = True
    unit_name: str | None = None

    @classmethod
    def of(cls, flag: Flag, unit_name: str | None = None) -> FlagNotice:
        return cls(flag.flag_id, flag.rule, flag.unit_id, flag.status is FlagStatus.RAISED, unit_name)


@dataclass(frozen=True, slots=True)
class UnitCount:
    unit_id: str
    name: str
    count: int
    link: str  # the inbox, filtered to the unit


@dataclass(frozen=True, slots=True)
class Digest:
    """One message for one route: the new flags of one window, counted by unit (most flags first)."""

    route: NotificationRoute
    total: int
    units: tuple[UnitCount, ...]
    subject: str
    text: str
    link: str  # the unit's inbox when there is one unit, else the inbox
    opened_at: float  # when the first of its flags came
    at: float  # when it was made
    flag_ids: tuple[str, ...]  # for the caller's bookkeeping; never put in a message


def inbox_link(inbox_url: str, unit_id: str) -> str:
    return f"{inbox_url}{'&' if '?' in inbox_url else '?'}unit={quote(unit_id, safe='')}"


def _flags(n: int) -> tuple[str, str]:
    return (f"{n} ny flagga", f"{n} new flag") if n == 1 else (f"{n} nya flaggor", f"{n} new flags")


def _units(n: int) -> tuple[str, str]:
    return (f"{n} enhet", f"{n} unit") if n == 1 else (f"{n} enheter", f"{n} units")


def subject(total: int) -> str:
    return f"outcome-monitor: {_flags(total)[1]}"


def render(units: Sequence[UnitCount], inbox_url: str, max_units_listed: int) -> str:
    """The message text, Swedish / English: counts per unit and links, nothing about anyone."""
    total = sum(u.count for u in units)
    if len(units) == 1:
        sv, en = _flags(total)
        return f"{sv} för {units[0].name} / {en} for {units[0].name}\n{units[0].link}\n"
    (sv, en), (usv, uen) = _flags(total), _units(len(units))
    lines = [f"{sv} i {usv} / {en} in {uen}", ""]
    lines += [f"{u.name}: {u.count}  {u.link}" for u in units[:max_units_listed]]
    rest = units[max_units_listed:]
    if rest:
        (rsv, _), (fsv, fen) = _units(len(rest)), _flags(sum(u.count for u in rest))
        more = f"{len(rest)} more unit" if len(rest) == 1 else f"{len(rest)} more units"
        lines.append(f"och {rsv} till med {fsv} / and {more} with {fen}")
    lines += ["", f"Inkorgen / Inbox: {inbox_url}"]
    return "\n".join(lines) + "\n"


@dataclass(slots=True)
class _Pending:
    opened_at: float
    flags: dict[str, str]  # flag_id -> unit_id


class NotificationBatcher:
    """Collects new open flags per route and makes at most one `Digest` per route and window.

    A route's window opens with its first pending flag; `due(now)` makes its digest once `window_s` have
    passed, `flush(now)` makes every pending one at once (on demand, e.g. at shutdown). With `now` from a
    monotonic clock, two digests of a route made by `due` are at least `window_s` apart, whatever the
    number of flags. A flag id seen before (raised or withdrawn) is not announced again; the ids seen are
    kept in a bounded, least-recently-seen-first set. A withdrawal of a flag still pending takes it out.
    """

    def __init__(self, routes: Sequence[NotificationRoute], *, window_s: float, inbox_url: str,
                 unit_names: Mapping[str, str] | None = None, max_units_listed: int = 20,
                 seen_capacity: int = 100_000) -> None:
        names = [r.name for r in routes]
        if len(set(names)) != len(names):
            raise ValueError("notification route names must be unique")
        if window_s <= 0 or max_units_listed < 1 or seen_capacity < 1:
            raise ValueError("window_s, max_units_listed and seen_capacity must be positive")
        self.routes = tuple(routes)
        self.window_s = window_s
        self.inbox_url = inbox_url
        self.unit_names = dict(unit_names or {})
        self.max_units_listed = max_units_listed
        self.seen_capacity = seen_capacity
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._pending: dict[str, _Pending] = {}
        self._names: dict[str, str] = {}  # unit_id -> display name given with a flag

    def offer(self, notices: Iterable[FlagNotice], now: float) -> int:
        """Queue the flags not seen before; returns how many were new and open."""
        new = 0
        for notice in notices:
            if notice.flag_id in self._seen:
                self._seen.move_to_end(notice.flag_id)
                if not notice.open:
                    self._withdraw(notice.flag_id)
                continue
            self._remember(notice.flag_id)
            if not notice.open:
                continue
            new += 1
            if notice.unit_name:
                self._names[notice.unit_id] = notice.unit_name
            for route in self.routes:
                if route.matches(notice.rule, notice.unit_id):
                    pending = self._pending.setdefault(route.name, _Pending(now, {}))
                    pending.flags[notice.flag_id] = notice.unit_id
        return new

    def due(self, now: float) -> list[Digest]:
        """Digests of the routes whose window has passed."""
        return self._take(now, lambda p: now - p.opened_at >= self.window_s)

    def flush(self, now: float) -> list[Digest]:
        """Digests of every route with pending flags, window passed or not."""
        return self._take(now, lambda p: True)

    def pending(self) -> dict[str, int]:
        """Route name -> flags waiting for its next digest."""
        return {name: len(p.flags) for name, p in self._pending.items()}

    def _take(self, now: float, ready: Callable[[_Pending], bool]) -> list[Digest]:
        digests = []
        for route in self.routes:
            pending = self._pending.get(route.name)
            if pending is not None and ready(pending):
                del self._pending[route.name]
                digests.append(self._digest(route, pending, now))
        return digests

    def _digest(self, route: NotificationRoute, pending: _Pending, now: float) -> Digest:
        counts = Counter(pending.flags.values())
        units = tuple(UnitCount(u, self._name(u), n, inbox_link(self.inbox_url, u))
                      for u, n in sorted(counts.items(), key=lambda c: (-c[1], c[0])))
        total = len(pending.flags)
        return Digest(route=route, total=total, units=units, subject=subject(total),
                      text=render(units, self.inbox_url, self.max_units_listed),
                      link=units[0].link if len(units) == 1 else self.inbox_url,
                      opened_at=pending.opened_at, at=now, flag_ids=tuple(pending.flags))

    def _name(self, unit_id: str) -> str:
        name = self._names.get(unit_id) or self.unit_names.get(unit_id) or unit_id
        return " ".join(name.split()) or unit_id  # one line, whatever the configuration held

    def _remember(self, flag_id: str) -> None:
        self._seen[flag_id] = None
        while len(self._seen) > self.seen_capacity:
            self._seen.popitem(last=False)

    def _withdraw(self, flag_id: str) -> None:
        for name in list(self._pending):
            pending = self._pending[name]
            pending.flags.pop(flag_id, None)
            if not pending.flags:
                del self._pending[name]  # nothing left to say: no message, the window closes

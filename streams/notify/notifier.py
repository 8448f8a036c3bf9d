"""The notifier: the batcher of streams/core/notify.py and one sender per channel.

`offer` queues flags (cheap, sends nothing); `tick` sends the digests whose window has passed; `flush`
sends everything pending (at shutdown). None of them raises because of a failed delivery. A digest that
could not be delivered is logged and dropped: it is not retried. `now` is seconds of a monotonic clock;
left out, `time.monotonic()` is read here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping

from streams.core.notify import Channel, Digest, FlagNotice, NotificationBatcher
from streams.models.flags import Flag
from streams.notify.config import NotificationSettings
from streams.notify.senders import EmailSender, Sender, WebhookSender

log = logging.getLogger(__name__)


def default_senders(settings: NotificationSettings) -> dict[Channel, Sender]:
    senders: dict[Channel, Sender] = {"webhook": WebhookSender(settings.webhook_timeout_s)}
    if settings.smtp is not None:
        senders["email"] = EmailSender(settings.smtp)
    return senders


class Notifier:
    def __init__(self, settings: NotificationSettings, senders: Mapping[Channel, Sender] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.batcher = NotificationBatcher(
            settings.routes, window_s=settings.window_s, inbox_url=settings.inbox_url,
            unit_names=settings.unit_names, max_units_listed=settings.max_units_listed,
            seen_capacity=settings.seen_capacity)
        self.senders = dict(senders) if senders is not None else default_senders(settings)
        missing = {r.channel for r in settings.routes} - set(self.senders)
        if missing:
            raise ValueError(f"no sender for channel(s) {sorted(missing)}")
        self.clock = clock
        self.delivered = 0  # digests the other end accepted
        self.failed = 0  # digests that could not be delivered (logged, dropped)

    async def offer(self, flags: Iterable[Flag | FlagNotice], now: float | None = None) -> int:
        """Queue new raised flags (only their id, rule and unit are kept); returns how many were new."""
        notices = (f if isinstance(f, FlagNotice) else FlagNotice.of(f) for f in flags)
        return self.batcher.offer(notices, self._now(now))

    async def tick(self, now: float | None = None) -> int:
        """Send the digests whose window has passed; returns how many were delivered."""
        return await self._deliver(self.batcher.due(self._now(now)))

    async def flush(self, now: float | None = None) -> int:
        """Send every pending digest now (on demand, e.g. at shutdown); returns how many were delivered."""
        return await self._deliver(self.batcher.flush(self._now(now)))

    def _now(self, now: float | None) -> float:
        return self.clock() if now is None else now

    async def _deliver(self, digests: list[Digest]) -> int:
        if not digests:
            return 0
        results = await asyncio.gather(*(self._send(d) for d in digests))
        ok = sum(results)
        self.delivered += ok
        self.failed += len(results) - ok
        return ok

    async def _send(self, digest: Digest) -> bool:
        try:
            return await self.senders[digest.route.channel].send(digest)
        except Exception as exc:  # a sender should not raise; if one does, the others still go out
            log.warning("notification route %s: sender failed (%s)", digest.route.name, type(exc).__name__)
            return False

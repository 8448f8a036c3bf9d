"""Flag handling in the worker: the read model read from Kafka (`inbox_view.py`), the API and inbox page
(`inbox_api.py`), and the notifications of new flags (`streams/notify`). Registered like an agent."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from streams.agents.runtime.context import WorkerContext
from streams.agents.web.inbox_api import notify_owned
from streams.agents.web.inbox_api import register as register_api
from streams.agents.web.inbox_view import InboxView
from streams.core.handling.access import Accounts, AccountsFile, ConsentPolicy
from streams.core.handling.board import FlagBoard
from streams.models.flags import Flag, FlagStatus
from streams.notify.notifier import Notifier

log = logging.getLogger(__name__)

NOTIFY_TICK_S = 5.0


def load_accounts(path: str | None) -> Accounts:
    if not path:  # (an empty value, as docker-compose passes when none is set, is none)
        log.warning("inbox: no accounts file (OUTCOME_MONITOR_INBOX__ACCOUNTS_FILE); the API answers 401")
        return Accounts([])
    return Accounts(AccountsFile.model_validate_json(Path(path).read_bytes()).accounts)


def register(p: WorkerContext) -> InboxView:
    consent = p.config.consent_in_effect()
    board = FlagBoard(ConsentPolicy(frozenset(consent.hr_programmes), frozenset(consent.care_programmes)))
    notifier = Notifier(p.settings.notify)
    started = dt.datetime.now(dt.UTC)
    fresh: list[Flag] = []

    def offer(flag: Flag) -> None:
        fresh.append(flag)

    announce = notify_owned(p, offer)

    def on_new_flag(flag: Flag) -> None:
        # announced: raised flags this worker's partitions hold, new since it started (not the history)
        if flag.status is FlagStatus.RAISED:
            announce(flag)

    view = InboxView(p.settings.bootstrap_servers, p.settings.kafka, p.names, p.partitions, board, on_new_flag,
                     since=started)
    p.inbox = view
    register_api(p, view, load_accounts(p.settings.inbox.accounts_file), p.vault)

    @p.app.task
    async def read_inbox() -> None:
        await view.run()

    async def take_fresh() -> None:
        if fresh:
            taken = list(fresh)
            fresh.clear()
            await notifier.offer(taken)

    @p.app.timer(interval=NOTIFY_TICK_S, name="notify")
    async def notify() -> None:
        await take_fresh()
        await notifier.tick()

    async def notify_before_shutdown(*_: object, **__: object) -> None:
        """What is pending goes out now rather than never (a stopped worker's memory is gone)."""
        await take_fresh()
        await notifier.flush()

    p.app.on_before_shutdown.connect(notify_before_shutdown)

    return view

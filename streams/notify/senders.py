"""Senders: one digest to one webhook (HTTP POST of JSON) or one e-mail address (SMTP).

A sender never raises into its caller: a failure is logged at WARNING with the route's name and the
error's type, never the target (a webhook URL is often a secret) nor the content, and `send` returns False.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol

import aiohttp

from streams.core.notify import Digest
from streams.notify.config import SmtpSettings

log = logging.getLogger(__name__)


class Sender(Protocol):
    async def send(self, digest: Digest) -> bool:
        """Deliver one digest; True when the other end accepted it."""
        ...


def webhook_body(digest: Digest) -> dict[str, Any]:
    """What a webhook receives: the text (as chat services show it), the counts per unit, the inbox."""
    return {
        "text": digest.text,
        "total": digest.total,
        "units": [{"unit_id": u.unit_id, "count": u.count} for u in digest.units],
        "link": digest.link,
    }


def email_message(digest: Digest, smtp: SmtpSettings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = smtp.from_address
    message["To"] = digest.route.target
    message["Subject"] = digest.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=smtp.from_address.rsplit("@", 1)[1])
    message.set_content(digest.text, cte="quoted-printable")
    return message


class WebhookSender:
    def __init__(self, timeout_s: float = 10.0) -> None:
        self.timeout_s = timeout_s

    async def send(self, digest: Digest) -> bool:
        try:
            timeout = aiohttp.ClientTimeout(total=self.timeout_s)
            async with aiohttp.ClientSession(timeout=timeout) as session, session.post(
                digest.route.target, json=webhook_body(digest), allow_redirects=False
            ) as response:
                if response.status >= 300:
                    log.warning("notification route %s: the webhook answered HTTP %d", digest.route.name,
                                response.status)
                    return False
            return True
        except Exception as exc:  # whatever it is, the worker goes on
            log.warning("notification route %s: webhook failed (%s)", digest.route.name, type(exc).__name__)
            return False


class EmailSender:
    def __init__(self, smtp: SmtpSettings) -> None:
        self.smtp = smtp

    async def send(self, digest: Digest) -> bool:
        try:
            await asyncio.to_thread(self._send, email_message(digest, self.smtp))
            return True
        except Exception as exc:  # whatever it is, the worker goes on
            log.warning("notification route %s: e-mail failed (%s)", digest.route.name, type(exc).__name__)
            return False

    def _send(self, message: EmailMessage) -> None:
        smtp = self.smtp
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s) as client:
            if smtp.starttls:
                client.starttls(context=ssl.create_default_context(cafile=smtp.cafile))
            if smtp.user is not None and smtp.password is not None:
                client.login(smtp.user, smtp.password.get_secret_value())
            client.send_message(message)

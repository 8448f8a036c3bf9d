"""Notifications: batched digests of new flags, without personal data, by webhook and e-mail.

The pure part (routes, batching, texts) is streams/core/notify.py; this package sends.
"""

from streams.notify.config import NotificationSettings, SmtpSettings
from streams.notify.notifier import Notifier
from streams.notify.senders import EmailSender, Sender, WebhookSender

__all__ = ["EmailSender", "NotificationSettings", "Notifier", "Sender", "SmtpSettings", "WebhookSender"]

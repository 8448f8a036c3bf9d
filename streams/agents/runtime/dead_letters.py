"""The dead-letter topic: what a letter holds, its key, and how it is sent.

- **A letter always fits.** The original is kept whole up to `keep_bytes` (Settings
  `dead_letter_original_bytes`, 64 KiB); a larger one is kept as its first `keep_bytes` bytes (after
  redaction), with its size and SHA-256, so the sender can still match it to what was sent. Whatever the
  original, a letter stays under `MAX_LETTER_BYTES`, well below the producer's `max_request_size` and
  the broker's `max.message.bytes` (both ~1 MB by default).
- **One key per source record** (and per item of a batch message): a letter sent again after a restart has
  the key of the first, so readers keep one per key (`outcome-monitor flags --topic`) and compaction
  (the topic is `compact,delete`) removes the copy.
- **A letter never stops a partition.** Sending is tried `ATTEMPTS` times (the last time without the
  original); a letter that still cannot be written is logged with where it came from and counted, and the
  stage goes on without it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from streams.core.personnummer import redact, redact_bytes
from streams.models.internal import DeadLetter
from streams.models.rejections import Rejection

log = logging.getLogger(__name__)

KEEP_BYTES = 64 * 1024
#: Whatever the original and the settings: a letter is at most this long (the default producer's
#: max_request_size is 1,000,000 bytes, the broker's max.message.bytes 1 MiB).
MAX_LETTER_BYTES = 768 * 1024
ATTEMPTS = 3
BACKOFF_S = 1.0


def dead_letter(rejection: Rejection, original: bytes | None, keep_bytes: int = KEEP_BYTES) -> bytes:
    """The dead-letter record: the rejection and the original message with every personnummer-shaped
    run redacted (integration engineers read this topic; a rejected line may be one *because* it held
    one). Field names, positions and lengths stay, so the line can still be debugged. An original over
    `keep_bytes` is kept as its redacted first `keep_bytes` bytes, its size and its SHA-256 (of the bytes
    as sent); the letter is then shortened further only if it would not fit `MAX_LETTER_BYTES`."""
    keep = max(0, keep_bytes)
    event_id = rejection.event_id
    while True:
        letter = _letter(rejection, original, keep, event_id)
        if len(letter) <= MAX_LETTER_BYTES:
            return letter
        if keep > 0:
            keep //= 2  # an original of escapes (\u0000) or a long event_id: halve what is kept
        else:
            event_id = None


def _letter(rejection: Rejection, original: bytes | None, keep: int, event_id: str | None) -> bytes:
    text = b64 = size = digest = None
    truncated = False
    if original is not None:
        size = len(original)
        truncated = size > keep
        digest = hashlib.sha256(original).hexdigest() if truncated else None
        try:
            redacted = redact(original.decode("utf-8")).encode("utf-8")
            # a cut inside a multi-byte character drops that character's first bytes only
            text = (redacted[:keep] if truncated else redacted).decode("utf-8", "ignore")
        except UnicodeDecodeError:
            raw = redact_bytes(original)
            b64 = base64.b64encode(raw[:keep] if truncated else raw).decode("ascii")
    return DeadLetter(reason=rejection.reason.value, message=rejection.message,
                      source_offset=rejection.source_offset, event_id=event_id, original_text=text,
                      original_base64=b64, original_size=size, original_truncated=truncated,
                      original_sha256=digest).model_dump_json().encode()


def letter_key(rejection: Rejection, item: int | None = None) -> str | None:
    """The letter's key: its source record (`topic/partition/offset`), and for an item of a batch message
    on an internal topic its place in it (`#n`): the same for a letter sent again after a restart."""
    if rejection.source_offset is None:
        return None
    return rejection.source_offset if item is None else f"{rejection.source_offset}#{item}"


def _built(rejection: Rejection, original: bytes | None, keep_bytes: int) -> bytes:
    """`dead_letter`, or, should building it fail (a defect of ours), the letter without the original and
    the event id: a record must not stop its partition by what it holds."""
    try:
        return dead_letter(rejection, original, keep_bytes)
    except Exception:  # noqa: BLE001 - logged with its type; the reason and the offset still go out
        log.error("could not build the dead letter for %s; sent without its original", rejection.source_offset,
                  exc_info=log.isEnabledFor(logging.DEBUG))
        return DeadLetter(reason=rejection.reason.value, message=rejection.message,
                          source_offset=rejection.source_offset,
                          original_size=None if original is None else len(original),
                          original_truncated=original is not None).model_dump_json().encode()


Send = Callable[[str, str | None, bytes], Awaitable[Any]]


class DeadLetters:
    """Sends letters to `topic` with `send` (which hands a record to the producer and returns the future
    of its acknowledgement). `on_lost(reason)` counts a letter that could not be written."""

    def __init__(self, send: Send, topic: str, keep_bytes: int, on_lost: Callable[[str], None],
                 backoff_s: float = BACKOFF_S) -> None:
        self.send, self.topic, self.keep_bytes = send, topic, keep_bytes
        self.on_lost, self.backoff_s = on_lost, backoff_s

    async def __call__(self, rejection: Rejection, original: bytes | None,
                       item: int | None = None) -> asyncio.Future[None]:
        """Hand the letter to the producer; the future returned completes once the broker has it or the
        worker has given up on it: it never fails, so no letter can hold up the batch it belongs to."""
        log.debug("rejected %s at %s: %s", rejection.reason.value, rejection.source_offset, rejection.message)
        letter = _built(rejection, original, self.keep_bytes)
        # the topic is compacted, which takes no record without a key: one without a source has its content's
        key = letter_key(rejection, item) or f"sha256/{hashlib.sha256(letter).hexdigest()}"
        first = await self._hand_over(key, letter)
        return asyncio.ensure_future(self._confirmed(rejection, original, key, first))

    async def _hand_over(self, key: str | None, letter: bytes) -> Awaitable[Any] | Exception:
        try:
            return await self.send(self.topic, key, letter)  # type: ignore[no-any-return]
        except Exception as exc:  # noqa: BLE001 - refused before it left (too large, no metadata): tried again
            return exc

    async def _confirmed(self, rejection: Rejection, original: bytes | None, key: str | None,
                         pending: Awaitable[Any] | Exception) -> None:
        error: Exception | None = None
        for attempt in range(1, ATTEMPTS + 1):
            if not isinstance(pending, Exception):
                try:
                    await pending
                    return
                except Exception as exc:  # noqa: BLE001 - the broker refused it or it timed out
                    pending = exc
            error = pending
            if attempt == ATTEMPTS:
                break
            await asyncio.sleep(self.backoff_s * attempt)
            # the last attempt without the original: whatever the broker minded in it is then gone
            keep = self.keep_bytes if attempt + 1 < ATTEMPTS else 0
            pending = await self._hand_over(key, _built(rejection, original, keep))
        self.on_lost(rejection.reason.value)
        log.error("could not write the dead letter for %s (%s) after %d attempts (%s); going on without it",
                  rejection.source_offset or "-", rejection.reason.value, ATTEMPTS, type(error).__name__)


"""A dead letter always fits (an original over the limit is kept as its first bytes, its size and its
SHA-256), is keyed by its source record, and never holds up its partition: a letter the broker refuses is
tried again, the last time without its original, and then given up on, logged and counted."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.agents.runtime.dead_letters import (
    ATTEMPTS,
    KEEP_BYTES,
    MAX_LETTER_BYTES,
    DeadLetters,
    dead_letter,
    letter_key,
)
from streams.core.personnummer import contains_personal_identity_number
from streams.models import Rejection, RejectReason
from streams.models.internal import DeadLetter

TOO_LARGE = Rejection(reason=RejectReason.TOO_LARGE, message="larger than 65536 bytes", event_id="e-1",
                      source_offset="care.events/2/117")


def big_line(size: int, fill: str = "x") -> bytes:
    head = '{"event_type": "sick_leave", "event_id": "e-1", "note": "ringde 19811218-9876 '
    return (head + fill * (size - len(head) - 2) + '"}').encode()


def test_an_original_over_the_limit_is_kept_as_its_first_bytes_its_size_and_its_sha256() -> None:
    original = big_line(2_000_000)
    raw = dead_letter(TOO_LARGE, original)
    letter = DeadLetter.model_validate_json(raw)
    assert len(raw) < KEEP_BYTES + 1024
    assert letter.original_truncated and letter.original_size == 2_000_000
    assert letter.original_sha256 == hashlib.sha256(original).hexdigest()
    assert letter.original_text is not None and len(letter.original_text.encode()) == KEEP_BYTES
    assert letter.original_text.startswith('{"event_type": "sick_leave", "event_id": "e-1", "note": "ringde [redacted')
    assert not contains_personal_identity_number(letter.original_text)
    assert (letter.reason, letter.event_id, letter.source_offset) == ("too_large", "e-1", "care.events/2/117")


def test_an_original_within_the_limit_is_kept_whole_without_a_hash() -> None:
    original = big_line(KEEP_BYTES)
    letter = DeadLetter.model_validate_json(dead_letter(TOO_LARGE, original))
    assert not letter.original_truncated and letter.original_sha256 is None
    assert letter.original_size == KEEP_BYTES
    assert letter.original_text == original.decode().replace("19811218-9876", "[redacted: 13 chars]")


def test_a_cut_inside_a_multibyte_character_leaves_valid_text() -> None:
    letter = DeadLetter.model_validate_json(dead_letter(TOO_LARGE, big_line(300_000, "å"), keep_bytes=1001))
    assert letter.original_text is not None and letter.original_text.endswith("å")
    assert len(letter.original_text.encode()) in (1000, 1001)


@settings(max_examples=30, deadline=None)
@given(size=st.integers(0, 3_000_000), keep=st.integers(0, 256 * 1024), utf8=st.booleans(),
       escapes=st.booleans())
def test_any_letter_fits_the_producer_and_the_broker(size: int, keep: int, utf8: bool, escapes: bool) -> None:
    unit = b"\x01" if escapes else (b"a" if utf8 else b"\xff")  # \x01 is written \u0001 in JSON: 6 bytes
    original = (unit * size)[:size]
    rejection = TOO_LARGE.model_copy(update={"event_id": "\x01" * 60_000 if escapes else "e-1"})
    raw = dead_letter(rejection, original, keep_bytes=keep)
    assert len(raw) <= MAX_LETTER_BYTES
    letter = DeadLetter.model_validate_json(raw)
    assert letter.original_size == size
    assert letter.original_truncated or size <= keep  # kept whole only when within the limit
    if letter.original_truncated:
        assert letter.original_sha256 == hashlib.sha256(original).hexdigest()


def test_the_key_is_the_source_record_and_the_item_in_it() -> None:
    assert letter_key(TOO_LARGE) == "care.events/2/117"
    assert letter_key(TOO_LARGE, 3) == "care.events/2/117#3"
    assert letter_key(TOO_LARGE.model_copy(update={"source_offset": None})) is None


class Broker:
    """Takes a letter only up to `limit` bytes (a topic's max.message.bytes, say); records what it took."""

    def __init__(self, limit: int, refuse_at_send: bool = False) -> None:
        self.limit, self.refuse_at_send = limit, refuse_at_send
        self.taken: list[tuple[str | None, bytes]] = []
        self.tries = 0

    async def send(self, topic: str, key: str | None, value: bytes) -> Any:
        self.tries += 1
        if self.refuse_at_send and len(value) > self.limit:
            raise ValueError("message too large")
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if len(value) > self.limit:
            fut.set_exception(RuntimeError("RecordTooLarge"))
        else:
            self.taken.append((key, value))
            fut.set_result(None)
        return fut


def deliver(broker: Broker, original: bytes) -> list[str]:
    lost: list[str] = []
    letters = DeadLetters(broker.send, "rejected", KEEP_BYTES, lost.append, backoff_s=0.0)

    async def go() -> None:
        await (await letters(TOO_LARGE, original))

    asyncio.run(go())
    return lost


def test_a_letter_the_broker_refuses_is_sent_again_without_its_original() -> None:
    for refuse_at_send in (False, True):
        broker = Broker(limit=2000, refuse_at_send=refuse_at_send)
        lost = deliver(broker, big_line(100_000))
        assert (lost, broker.tries) == ([], ATTEMPTS)
        [(key, value)] = broker.taken
        letter = json.loads(value)
        assert key == "care.events/2/117"
        assert letter["original_text"] == "" and letter["original_truncated"] and letter["original_size"] == 100_000


def test_a_letter_that_can_never_be_written_is_counted_and_the_stage_goes_on() -> None:
    broker = Broker(limit=10)
    lost = deliver(broker, b"not json")
    assert (lost, broker.taken, broker.tries) == (["too_large"], [], ATTEMPTS)


def test_the_reader_shows_a_letter_sent_again_once_and_every_version_of_a_flag() -> None:
    from streams.files.flagview import LetterKeys

    keys = LetterKeys()
    letter = dead_letter(TOO_LARGE, b"{}")
    again = dead_letter(TOO_LARGE.model_copy(update={"message": "the clock had moved on"}), b"{}")
    flag = json.dumps({"flag_id": "f1", "status": "raised", "reason": "x"}).encode()
    shown = [not keys.seen(key, value) for key, value in [
        (b"care.events/2/117", letter), (b"care.events/2/117", again), (b"care.events/2/118", again),
        (b"f1", flag), (b"f1", flag), (None, letter)]]
    assert shown == [True, False, True, True, True, True]


def test_a_letter_that_cannot_be_built_goes_out_without_its_original(monkeypatch: Any) -> None:
    import streams.agents.runtime.dead_letters as module

    def broken(*_: object, **__: object) -> bytes:
        raise ValueError("a defect")

    monkeypatch.setattr(module, "dead_letter", broken)
    broker = Broker(limit=10_000)
    assert deliver(broker, b"\xff" * 100) == []
    [(key, value)] = broker.taken
    assert key == "care.events/2/117"
    assert json.loads(value) | {"message": ""} == {
        "reason": "too_large", "message": "", "source_offset": "care.events/2/117", "event_id": None,
        "original_text": None, "original_base64": None, "original_size": 100, "original_truncated": True,
        "original_sha256": None}

"""The `om-arrival` header contract: epoch seconds, integer or decimal; anything else is refused."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from streams.core.arrival import MAX_EPOCH_S, Arrival, arrival_of
from streams.models.rejections import Rejection, RejectReason


def test_integer_and_decimal_epoch_seconds_are_the_arrival_time() -> None:
    assert arrival_of([("om-arrival", b"1735689600")], 1) == Arrival(1735689600, True)
    assert arrival_of([("om-arrival", b"1735689600.0")], 1) == Arrival(1735689600, True)
    assert arrival_of([("om-arrival", b"1735689600.999")], 1) == Arrival(1735689600, True)


def test_without_the_header_the_record_timestamp_is_the_arrival_time() -> None:
    assert arrival_of([], 1795000000900) == Arrival(1795000000, False)
    assert arrival_of([("other", b"1")], 17_000) == Arrival(17, False)


def test_a_header_that_is_not_epoch_seconds_is_refused_with_its_own_reason() -> None:
    for bad in (b"soon", b"", b"1e9", b"-5", b"1735689600000", b"2025-01-01T00:00:00Z", b"\xff\xfe"):
        found = arrival_of([("om-arrival", bad)], 42_000, "care.events/0/7")
        assert isinstance(found, Rejection), bad
        assert found.reason is RejectReason.INVALID_ARRIVAL_HEADER
        assert found.source_offset == "care.events/0/7"
        assert "om-arrival" in found.message and "epoch seconds" in found.message


@given(st.binary(max_size=64), st.integers(min_value=0, max_value=2**62))
def test_any_header_bytes_give_an_arrival_or_a_rejection(value: bytes, ts: int) -> None:
    found = arrival_of([("om-arrival", value)], ts)
    assert isinstance(found, Arrival | Rejection)
    if isinstance(found, Arrival):
        assert 0 <= found.seconds <= MAX_EPOCH_S

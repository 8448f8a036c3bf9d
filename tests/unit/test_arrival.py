"""Which time a live record arrived at: the header `publish` sets, else the record timestamp."""

from __future__ import annotations

from types import SimpleNamespace

from streams.agents.ingest import arrival_of


def test_the_om_arrival_header_wins_over_the_record_timestamp() -> None:
    msg = SimpleNamespace(headers=[("om-arrival", b"1735689600")], timestamp=1795000000.5)
    assert arrival_of(msg) == 1735689600


def test_without_the_header_the_record_timestamp_is_the_arrival() -> None:
    assert arrival_of(SimpleNamespace(headers=None, timestamp=1795000000.9)) == 1795000000
    assert arrival_of(SimpleNamespace(headers={"other": b"1"}, timestamp=17.0)) == 17


def test_a_garbled_header_falls_back_to_the_record_timestamp() -> None:
    assert arrival_of(SimpleNamespace(headers=[("om-arrival", b"soon")], timestamp=42.0)) == 42

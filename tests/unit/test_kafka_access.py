"""Kafka security settings reach every client library in its own words, and secrets are never shown."""

from __future__ import annotations

import pytest

from streams.agents.worker import faust_credentials
from streams.kafka_access import KafkaAccess
from streams.settings import Settings


def test_sasl_settings_from_the_environment_reach_each_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTCOME_MONITOR_KAFKA__SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("OUTCOME_MONITOR_KAFKA__SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("OUTCOME_MONITOR_KAFKA__SASL_USERNAME", "monitor")
    monkeypatch.setenv("OUTCOME_MONITOR_KAFKA__SASL_PASSWORD", "s3cret-pw")
    access = Settings().kafka
    assert access.kafka_python() == {"security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512",
                                     "sasl_plain_username": "monitor", "sasl_plain_password": "s3cret-pw",
                                     "ssl_cafile": None, "ssl_certfile": None, "ssl_keyfile": None,
                                     "ssl_password": None}
    aio = access.aiokafka()
    assert aio["sasl_plain_password"] == "s3cret-pw" and aio["ssl_context"] is not None
    credentials = faust_credentials(access)
    assert credentials.protocol.value == "SASL_SSL" and credentials.mechanism.value == "SCRAM-SHA-512"
    assert "s3cret-pw" not in repr(access) + str(access) + repr(Settings())


def test_plaintext_is_the_default_and_sasl_without_credentials_fails_at_start() -> None:
    assert KafkaAccess().kafka_python() == {"security_protocol": "PLAINTEXT"}
    assert faust_credentials(KafkaAccess()) is None
    with pytest.raises(ValueError, match="SASL_USERNAME"):
        KafkaAccess(security_protocol="SASL_PLAINTEXT").check()

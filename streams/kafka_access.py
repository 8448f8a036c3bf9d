"""How every Kafka client of the project connects: one `KafkaAccess` (part of `Settings`, env prefix
`OUTCOME_MONITOR_KAFKA__`) turned into the keyword arguments of each client library. Secrets are
`SecretStr`: they are handed to the client and never printed or logged."""

from __future__ import annotations

import ssl
from typing import Any, Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaAccess(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="forbid")

    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: str | None = None  # the CA that signed the brokers' certificates (PEM)
    ssl_certfile: str | None = None  # this client's certificate, for mutual TLS (PEM)
    ssl_keyfile: str | None = None  # its private key (PEM)
    ssl_key_password: SecretStr | None = None

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL")

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol.endswith("SSL")

    def check(self) -> None:
        """Fail at start-up, with what is missing, rather than at the first connection."""
        if self.uses_sasl and (not self.sasl_username or self.sasl_password is None):
            raise ValueError(f"security_protocol {self.security_protocol} needs OUTCOME_MONITOR_KAFKA__SASL_USERNAME "
                             "and OUTCOME_MONITOR_KAFKA__SASL_PASSWORD")

    def ssl_context(self) -> ssl.SSLContext | None:
        if not self.uses_tls:
            return None
        context = ssl.create_default_context(cafile=self.ssl_cafile)
        if self.ssl_certfile:
            password = self.ssl_key_password.get_secret_value() if self.ssl_key_password else None
            context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile, password)
        return context

    def _password(self) -> str | None:
        return self.sasl_password.get_secret_value() if self.sasl_password is not None else None

    def _sasl(self) -> dict[str, Any]:
        """The protocol and SASL arguments, named alike by kafka-python and aiokafka."""
        out: dict[str, Any] = {"security_protocol": self.security_protocol}
        if self.uses_sasl:
            out.update(sasl_mechanism=self.sasl_mechanism, sasl_plain_username=self.sasl_username,
                       sasl_plain_password=self._password())
        return out

    def kafka_python(self) -> dict[str, Any]:
        """For kafka-python's KafkaProducer, KafkaConsumer and KafkaAdminClient."""
        out = self._sasl()
        if self.uses_tls:
            out.update(ssl_cafile=self.ssl_cafile, ssl_certfile=self.ssl_certfile, ssl_keyfile=self.ssl_keyfile,
                       ssl_password=self.ssl_key_password.get_secret_value() if self.ssl_key_password else None)
        return out

    def aiokafka(self) -> dict[str, Any]:
        """For aiokafka's consumers and producers."""
        out = self._sasl()
        if self.uses_tls:
            out["ssl_context"] = self.ssl_context()
        return out

    def __repr_args__(self) -> Any:  # never print a secret, even by accident
        return [(k, v) for k, v in super().__repr_args__() if k not in ("sasl_password", "ssl_key_password")]

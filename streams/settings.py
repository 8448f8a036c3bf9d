"""The one `Settings`, read once at the entry point (environment variables, prefix OUTCOME_MONITOR_)."""

from __future__ import annotations

import logging

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from streams.core.config import MonitorConfig

log = logging.getLogger(__name__)

# Only for demos and tests on a laptop: a real deployment sets OUTCOME_MONITOR_PSEUDONYM_KEY.
DEMO_PSEUDONYM_KEY = "outcome-monitor-demo-key-not-for-production"


class Topics(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="forbid")

    events: str = "care.events"
    rejected: str = "care.events.rejected"
    flags: str = "outcome.flags"
    partitions: int = Field(default=8, ge=1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="OUTCOME_MONITOR_", env_nested_delimiter="__", frozen=True, extra="forbid"
    )

    pseudonym_key: SecretStr = SecretStr(DEMO_PSEUDONYM_KEY)
    bootstrap_servers: str = "127.0.0.1:9092"
    app_id: str = "outcome-monitor"
    web_host: str = "127.0.0.1"
    web_port: int = 6066
    store: str = "memory://"
    data_dir: str = "/tmp/outcome-monitor-worker"
    session_timeout_s: float = Field(default=10.0, ge=6.0, description="Kafka group session timeout.")
    decoded_person_states: int = Field(
        default=20_000, ge=0,
        description="Person states the worker keeps decoded between batches (the rest stay as bytes in "
                    "the table): speed for people with frequent events against memory per person.")
    fail_on_event_id: str | None = Field(
        default=None, description="For tests only: the persons stage raises on this event id, to show that a "
                                  "defect in one item goes to the dead-letter topic and the rest flows.")
    topics: Topics = Topics()
    monitor: MonitorConfig = MonitorConfig()

    def pseudonym_key_bytes(self) -> bytes:
        key = self.pseudonym_key.get_secret_value()
        if key == DEMO_PSEUDONYM_KEY:
            log.warning("using the demo pseudonym key; set OUTCOME_MONITOR_PSEUDONYM_KEY in production")
        return key.encode("utf-8")

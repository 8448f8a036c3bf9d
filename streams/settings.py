"""The one `Settings`, read once at the entry point (environment variables, prefix OUTCOME_MONITOR_)."""

from __future__ import annotations

import logging

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from streams.core.config import MonitorConfig
from streams.kafka_access import KafkaAccess
from streams.notify.config import NotificationSettings

log = logging.getLogger(__name__)

# Only for demos and tests on a laptop: a real deployment sets OUTCOME_MONITOR_PSEUDONYM_KEY.
DEMO_PSEUDONYM_KEY = "outcome-monitor-demo-key-not-for-production"


DEMO_KEY_MESSAGE = (
    "no pseudonym key is set, and the built-in demo key is public: pseudonyms made with it can be "
    "reversed. Set a secret key of 32 or more random bytes, kept for as long as the pseudonyms must match, "
    "e.g. `export OUTCOME_MONITOR_PSEUDONYM_KEY=$(openssl rand -hex 32)` (in production from your secret "
    "store). For a demo on sample data: `outcome-monitor up`, `make demo`, or `replay --demo-key`."
)


class DemoKeyRefused(ValueError):
    """The demo pseudonym key outside a demo."""


class Topics(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="forbid")

    events: str = "care.events"
    rejected: str = "care.events.rejected"
    flags: str = "outcome.flags"
    # The topics of flag handling; by default beside the flags topic ("outcome.flags" -> "outcome.audit").
    flag_actions: str | None = Field(default=None, description='Default "<prefix>.flag-actions".')
    audit: str | None = Field(default=None, description='Default "<prefix>.audit".')
    consent: str | None = Field(default=None, description='Default "<prefix>.consent".')
    identities: str | None = Field(
        default=None, description='Default "<prefix>.identities": source person keys, encrypted, by pseudonym.')
    programme_figures: str | None = Field(
        default=None, description='Default "<prefix>.programme-figures": each programme\'s figures for a quarter, '
        'keyed "<programme>/<quarter>" (compacted: the last record of a key is the latest).')

    def beside_flags(self, name: str) -> str:
        prefix = self.flags.rsplit(".", 1)[0] if "." in self.flags else self.flags
        return f"{prefix}.{name}"
    partitions: int = Field(default=8, ge=1)
    replication_factor: int = Field(default=1, ge=1, description="Of every topic the project creates.")


class InboxSettings(BaseSettings):
    """The recipients' inbox and API on the worker's web server."""

    model_config = SettingsConfigDict(frozen=True, extra="forbid")

    accounts_file: str | None = Field(
        default=None, description="JSON {\"accounts\": [{token_sha256, user, role, units, may_reveal}]}; "
                                  "without it the API answers 401 to everyone.")
    reveal_key_file: str | None = Field(
        default=None, description="32 random bytes (hex or raw) that encrypt source person keys on the "
                                  "identities topic; without it nothing is kept and no reveal is possible.")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="OUTCOME_MONITOR_", env_nested_delimiter="__", frozen=True, extra="forbid"
    )

    pseudonym_key: SecretStr = SecretStr(DEMO_PSEUDONYM_KEY)
    allow_demo_key: bool = Field(default=False, description="Accept the public demo key (demos only).")
    bootstrap_servers: str = "127.0.0.1:9092"
    app_id: str = "outcome-monitor"
    web_host: str = "127.0.0.1"
    web_port: int = 6066
    store: str = "memory://"
    data_dir: str = "/tmp/outcome-monitor-worker"
    session_timeout_s: float = Field(default=10.0, ge=6.0, description="Kafka group session timeout.")
    programme_refresh_s: float = Field(
        default=60.0, gt=0, description="At most this often, and only when a ledger changed, the programmes' "
        "figures are computed again (matching and a bootstrap: seconds for a cohort of a hundred).")
    decoded_person_states: int = Field(
        default=5_000, ge=0,
        description="Person states the worker keeps decoded between batches (the rest stay as bytes in "
                    "the table): speed for people with frequent events against memory per person "
                    "(a decoded state is ~2 KB, its bytes ~0.2 KB).")
    dead_letter_original_bytes: int = Field(
        default=64 * 1024, ge=0, le=256 * 1024,
        description="A dead letter keeps the original whole up to this many bytes; a larger one as its first "
                    "this many bytes, its size and its SHA-256 (a letter always fits the producer's "
                    "max_request_size and the broker's max.message.bytes, ~1 MB).")
    state_write_interval_s: float = Field(
        default=10.0, ge=0,
        description="The person and unit stages write each state their batches changed at "
                    "most once per this many seconds (0: after every batch), and their input positions "
                    "with them; outputs are sent after every batch all the same. A stage that has had no "
                    "batch for a second writes at once. Fewer changelog records and a faster backlog "
                    "against more records read again after a crash.")
    stalled_after_s: float = Field(
        default=120.0, gt=0,
        description="/health says degraded when an agent's position on a partition has not moved for this "
                    "long while the broker's end was beyond it all that time.")
    topics: Topics = Topics()
    kafka: KafkaAccess = KafkaAccess()
    monitor: MonitorConfig = MonitorConfig()
    inbox: InboxSettings = InboxSettings()
    notify: NotificationSettings = NotificationSettings()

    def pseudonym_key_bytes(self) -> bytes:
        """The HMAC key. The built-in demo key is public (it is in this repository), so pseudonyms made
        with it can be reversed by anyone who guesses the ids: it is refused unless `allow_demo_key`
        (set only by `outcome-monitor up`, `make demo` and `replay --demo-key`)."""
        key = self.pseudonym_key.get_secret_value()
        if key == DEMO_PSEUDONYM_KEY:
            if not self.allow_demo_key:
                raise DemoKeyRefused(DEMO_KEY_MESSAGE)
            log.warning("using the public demo pseudonym key: for demos only")
        return key.encode("utf-8")

"""What the operator configures for notifications: routes, the batching window, the inbox, SMTP.

Plain pydantic models (no environment is read here): nested into `Settings` as `notify`, they are set with
`OUTCOME_MONITOR_NOTIFY__...` variables, e.g. `OUTCOME_MONITOR_NOTIFY__ROUTES` as JSON and
`OUTCOME_MONITOR_NOTIFY__SMTP__HOST`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from streams.core.notify import EMAIL_ADDRESS, NotificationRoute


class SmtpSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    from_address: str = Field(description="The sender, e.g. outcome-monitor@kommun.se.")
    starttls: bool = Field(default=True, description="Upgrade the connection with STARTTLS before anything else.")
    cafile: str | None = Field(default=None, description="CA (PEM) that signed the server's certificate, when it is "
                                                         "not one the system trusts.")
    user: str | None = None
    password: SecretStr | None = None
    timeout_s: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _checks(self) -> SmtpSettings:
        if not EMAIL_ADDRESS.fullmatch(self.from_address):
            raise ValueError("smtp.from_address is one e-mail address")
        if (self.user is None) != (self.password is None):
            raise ValueError("smtp.user and smtp.password go together")
        if self.user is not None and not self.starttls:
            raise ValueError("smtp.user/password need smtp.starttls: the password is never sent in clear")
        return self


class NotificationSettings(BaseModel):
    """Routes and batching of notifications; no route, no notification."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    routes: tuple[NotificationRoute, ...] = ()
    window_s: float = Field(default=60.0, gt=0, description="At most one message per route in this time.")
    inbox_url: str = Field(default="http://127.0.0.1:6066/inbox", pattern=r"^https?://[^\s/]+\S*$",
                           description="Messages link here, with ?unit=<unit_id> for one unit.")
    unit_names: dict[str, str] = Field(default_factory=dict,
                                       description="unit_id -> display name in messages (else the id).")
    max_units_listed: int = Field(default=20, ge=1, description="Further units are summed in one line.")
    seen_capacity: int = Field(default=100_000, ge=1, description="Flag ids remembered as already announced.")
    webhook_timeout_s: float = Field(default=10.0, gt=0)
    smtp: SmtpSettings | None = None

    @model_validator(mode="after")
    def _checks(self) -> NotificationSettings:
        names = [r.name for r in self.routes]
        if len(set(names)) != len(names):
            raise ValueError("notification route names must be unique")
        if self.smtp is None and any(r.channel == "email" for r in self.routes):
            raise ValueError("an email route needs notify.smtp (OUTCOME_MONITOR_NOTIFY__SMTP__HOST, ...)")
        return self

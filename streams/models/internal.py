"""Messages between the worker's own agents (internal topics). They carry pseudonyms, never person ids."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from streams.models.rejections import EVENT_ID


class _Internal(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PersonEnvelope(_Internal):
    """A validated person event, person id replaced by the pseudonym, with its arrival time."""

    pseudonym: str
    arrival: int = Field(description="Epoch seconds: the input record's timestamp.")
    source_offset: str
    event: str = Field(description="The event as JSON, person_id replaced by the pseudonym.")
    ingested_at: float = Field(description="Wall-clock time the worker read the input record.")


class UnitUpdateMessage(_Internal):
    """What one person event (or a staffing report) changes in one unit's figures."""

    unit_id: str
    source: str | None = Field(default=None, description="Pseudonym of the person; None for staffing.")
    seq: int = Field(default=0, description="The person's event counter: re-sends are recognised by it.")
    deltas: list[tuple[str, int, float]] = Field(default_factory=list)
    presence: list[tuple[str, int]] = Field(default_factory=list)
    staffing: tuple[int, str, int, int, int] | None = None
    source_offset: str | None = None


class DaySummaryMessage(_Internal):
    """One unit-day for the organisation stage (the fields of `streams.core.unit.tracker.DaySummary`)."""

    unit_id: str
    day: int
    sick_days: float
    occasions: float
    headcount: int
    ed_visits: float = 0.0
    readmissions: float = 0.0
    discharges: float = 0.0
    inpatient_days: float = 0.0
    care_change: float = 0.0


class DeadLetter(_Internal):
    """What `care.events.rejected` holds: why, where from, and the original message (whole up to the
    worker's `dead_letter_original_bytes`, 64 KiB by default; beyond that its first bytes, its size and its
    SHA-256). Keyed by its source record: a letter sent again after a restart has the same key."""

    reason: str
    message: str
    source_offset: str | None = Field(description="Topic/partition/offset of the record it is about.")
    event_id: str | None = Field(default=None, description=EVENT_ID)
    original_text: str | None = Field(
        default=None, description="The original bytes, when valid UTF-8, every personnummer-shaped run "
                                  "redacted; only the first dead_letter_original_bytes when original_truncated.")
    original_base64: str | None = Field(default=None, description="The original bytes otherwise (as above).")
    original_size: int | None = Field(
        default=None, description="Size of the original in bytes, as sent (null: the letter has no original).")
    original_truncated: bool = Field(
        default=False, description="True when only the first bytes of the original are kept (it was larger "
                                   "than dead_letter_original_bytes).")
    original_sha256: str | None = Field(
        default=None, description="SHA-256 (hex) of the whole original as sent, when it is truncated: compare "
                                  "with `sha256sum` of what you sent.")


class PersonEventBatch(_Internal):
    """Person events bound for one partition of person-events, in the order they were read. One message
    carries many events: per-message overhead, not the monitor's work, is what limits a worker."""

    events: list[PersonEnvelope] = Field(default_factory=list)
    staffing: list[UnitUpdateMessage] = Field(
        default_factory=list, description="Staffing reports on their way to their unit. They take the "
        "persons' path (one more hop than they need) so that in a backfill they never run ahead of the "
        "person events of the same weeks.")


class UnitUpdateBatch(_Internal):
    """Unit updates bound for one partition of unit-updates, in the order they were made."""

    updates: list[UnitUpdateMessage]


class DaySummaryBatch(_Internal):
    """Changed unit-days for the organisation stage (one partition)."""

    summaries: list[DaySummaryMessage]

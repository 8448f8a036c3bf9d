"""What the worker writes to the dead-letter topic, for integration engineers to read (the worker's
messages between its own agents are in `streams/agents/runtime/messages.py`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from streams.models.rejections import EVENT_ID


class _Internal(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


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

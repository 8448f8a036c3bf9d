"""JSON Schema of the wire types, generated from the pydantic models into `schemas/`."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import TypeAdapter

from streams import generated
from streams.models.events import EVENT_ADAPTER
from streams.models.flags import Flag
from streams.models.handling import ActionRequest, AuditEntry, ConsentRecord, FlagAction
from streams.models.internal import DeadLetter
from streams.models.rejections import Rejection

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"


def rendered() -> dict[str, str]:
    docs = {
        "event.schema.json": EVENT_ADAPTER.json_schema(),
        "flag.schema.json": TypeAdapter(Flag).json_schema(),
        "rejection.schema.json": TypeAdapter(Rejection).json_schema(),
        # what integration engineers read on the dead-letter topic
        "dead-letter.schema.json": TypeAdapter(DeadLetter).json_schema(),
        # flag handling: what the inbox API takes, and what its topics hold
        "action-request.schema.json": TypeAdapter(ActionRequest).json_schema(),
        "flag-action.schema.json": TypeAdapter(FlagAction).json_schema(),
        "audit-entry.schema.json": TypeAdapter(AuditEntry).json_schema(),
        "consent.schema.json": TypeAdapter(ConsentRecord).json_schema(),
    }
    out = {}
    for name, schema in docs.items():
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                  "$id": f"https://outcome-monitor.example/schemas/{name}", **schema}
        out[name] = json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return out


def stale(directory: Path = SCHEMA_DIR) -> list[str]:
    """Names of schema files that differ from what the models generate (missing counts as stale)."""
    return generated.stale(rendered(), directory)


def write(directory: Path = SCHEMA_DIR) -> list[Path]:
    return generated.write(rendered(), directory)

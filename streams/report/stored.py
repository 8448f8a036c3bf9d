"""Figures already computed, for the report: the file `replay --programmes-out` writes, or the worker's
programme-figures topic (the last record of each key "<programme>/<quarter>"). Both hold what
`ProgrammeResults.published()` gives, the same document; the report renders one of them without replaying
anything. What they lack is each member's own before/after level (never published): a report from them
draws no per-person dots."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from streams.core.programme.results import ProgrammeResults
from streams.files.topic_records import records_to_end
from streams.kafka_access import KafkaAccess

_RESULTS = TypeAdapter(ProgrammeResults)


def read_figures_file(path: Path) -> dict[str, dict[str, Any]]:
    """The figures of a `replay --programmes-out` file, by "<programme>/<quarter>"."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ValueError(f"{path} is not a figures file (replay --programmes-out writes one): {exc}") from exc
    if not isinstance(doc, dict) or not all(isinstance(v, dict) for v in doc.values()):
        raise ValueError(f"{path} is not a figures file: expected {{\"<programme>/<quarter>\": figures, ...}}")
    return doc


def read_figures_topic(bootstrap: str, topic: str, access: KafkaAccess | None = None) -> dict[str, dict[str, Any]]:
    """The last record of each key of the worker's programme-figures topic (compacted)."""
    last: dict[str, dict[str, Any]] = {}
    for rec in records_to_end(bootstrap, topic, access, client_id="outcome-monitor-report"):
        if rec.key is None or rec.value is None:
            continue
        try:
            doc = json.loads(rec.value)
        except ValueError:
            continue  # not figures (written there by another program)
        if isinstance(doc, dict):
            last[rec.key.decode("utf-8", "replace")] = doc
    if not last:
        raise ValueError(f"no figures on the topic {topic!r} at {bootstrap}: is a worker with programmes "
                         "running there, and has a month of data been completed?")
    return last


def pick(figures: Mapping[str, dict[str, Any]], programme: str, quarter: str, where: str) -> dict[str, Any]:
    """The figures of `programme` for `quarter` (as "2025Q3"), or a ValueError that says what `where` holds."""
    key = f"{programme}/{quarter.upper()}"
    if key in figures:
        return figures[key]
    quarters = sorted(k.split("/", 1)[1] for k in figures if k.split("/", 1)[0] == programme)
    if quarters:
        raise ValueError(f"{where} holds {programme!r} for {', '.join(quarters)}, not for {quarter.upper()} "
                         "(the worker computes the quarter of the last complete month; replay the events with "
                         "--events for another)")
    held = sorted({k.split("/", 1)[0] for k in figures})
    raise ValueError(f"{where} holds no figures of {programme!r}; it holds: {', '.join(held) or 'none'}")


def results_of(document: Mapping[str, Any]) -> ProgrammeResults:
    """A published figures document as the results the report renders (without per-person levels)."""
    try:
        return _RESULTS.validate_python({**document, "paired": {}})
    except ValidationError as exc:
        first = exc.errors()[0]
        at = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"the stored figures are not of this version ({at}: {first['msg']}); compute them "
                         "again with this version (replay --programmes-out, or the worker)") from exc

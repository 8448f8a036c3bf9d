"""`outcome-monitor flags`: read the flags topic (or the dead-letter topic) as an alert recipient would."""

from __future__ import annotations

import json
import sys
from typing import IO

from kafka import KafkaConsumer, TopicPartition

from streams.files.topic_records import records_to_end
from streams.kafka_access import KafkaAccess


def describe(value: bytes) -> str:
    """One line per record; a record that is not what the topic should hold is shown as it is."""
    try:
        return _one_line(_describe(json.loads(value)))
    except (ValueError, KeyError, TypeError):
        return _one_line(value[:200].decode("utf-8", "replace"))


def _one_line(text: str) -> str:
    """No character that would end or reorder the printed line (U+2028/9, controls, bidi overrides)."""
    return "".join(ch if ch.isprintable() and ch not in "\u2028\u2029\u202a\u202b\u202c\u202d\u202e" else "?"
                   for ch in text)


def _describe(doc: dict) -> str:  # type: ignore[type-arg]
    if "flag_id" in doc:
        return (f"{doc['raised_at']}  {doc['status']:<9} {doc['rule']:<26} {doc['subject_kind']:<6} "
                f"{doc['subject_id']:<36} unit={doc['unit_id']}  {doc['flag_id']}")
    if "reason" in doc:
        return f"{doc['reason']:<30} {doc.get('source_offset')}  {doc['message']}"
    return json.dumps(doc)


class LetterKeys:
    """Dead letters are keyed by their source record; one sent again after a worker's restart has the key
    of the first (agents/runtime/dead_letters.py) and is shown once. Flags are shown in every version."""

    def __init__(self) -> None:
        self._keys: set[bytes] = set()

    def seen(self, key: bytes | None, value: bytes) -> bool:
        if key is None or b'"reason"' not in value:
            return False
        try:
            doc = json.loads(value)
        except ValueError:
            return False
        if not isinstance(doc, dict) or "reason" not in doc or "flag_id" in doc:
            return False
        if key in self._keys:
            return True
        self._keys.add(key)
        return False


def show(bootstrap: str, topic: str, follow: bool, as_json: bool, out: IO[str] = sys.stdout,
         access: KafkaAccess | None = None) -> int:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             client_id="outcome-monitor-flags", **(access or KafkaAccess()).kafka_python())
    parts = consumer.partitions_for_topic(topic) or set()
    if not parts:
        print(f"flags: no topic {topic!r} on {bootstrap}", file=sys.stderr)
        return 2
    tps = [TopicPartition(topic, p) for p in sorted(parts)]
    consumer.assign(tps)
    consumer.seek_to_beginning()
    ends = consumer.end_offsets(tps)
    letters = LetterKeys()
    try:
        while True:
            batch = consumer.poll(timeout_ms=1000)
            for records in batch.values():
                for rec in records:
                    if letters.seen(rec.key, rec.value):
                        continue
                    text = rec.value.decode("utf-8", "replace") if as_json else describe(rec.value)
                    out.write(text + "\n")
            out.flush()
            if not follow and all(consumer.position(tp) >= ends[tp] for tp in tps):
                return 0
    except (KeyboardInterrupt, BrokenPipeError):  # Ctrl-C, or piped into `head`
        return 0
    finally:
        consumer.close()


def final_flags(bootstrap: str, topic: str, access: KafkaAccess | None = None) -> list[dict[str, object]]:
    """The flag store's view: the last record per flag_id, withdrawn ones left out."""
    last: dict[str, dict[str, object]] = {}
    for rec in records_to_end(bootstrap, topic, access, client_id="outcome-monitor-flags"):
        try:
            doc = json.loads(rec.value)
            last[str(doc["flag_id"])] = doc
        except (ValueError, KeyError, TypeError):
            continue  # not a flag (written there by another program): not ours to show
    return [f for f in last.values() if f.get("status") == "raised"]

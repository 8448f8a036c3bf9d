"""The organisation stage at scale (`python -m benchmarks.org_scale`): bytes of organisation state written
per input event, replay time and memory, for a number of units spread over a number of organisations.

The worker writes each peer group its batch changed once per batch (agents/stages/organisation.py); here
the core runs as `replay` does and a "batch" is every `batch_events` input events: at the end of each, the
changed groups' states go to the worker's writer over a table that counts what it is given: each record's
key and value, each deletion's key (a tombstone). `--writer parted`: the worker's (each group's changes as
a delta, agents/runtime/parted_state.py); `whole`: the release before's (each changed group's whole state,
chunked when large). The CPU of the writes is counted apart from the replay's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import time
from dataclasses import dataclass

from stdnum import luhn

from benchmarks.host import say
from streams.agents.runtime.codec import dumps, loads_dict
from streams.agents.runtime.parted_state import PartedCache
from streams.agents.runtime.state_cache import StateCache
from streams.core.config import MonitorConfig
from streams.core.monitor import Monitor
from streams.core.org.drift import OrgDrift
from streams.core.org.parts import OrgParts
from streams.core.org.state import OrgState
from streams.core.pseudonym import Pseudonymiser
from streams.core.unit.summary import DaySummary
from streams.models.flags import Flag
from streams.simulators.simulation import Scenario, generate

KEY = b"benchmark-pseudonym-key-00000000"
NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def organisation_number(i: int) -> str:
    """The i-th made-up organisationsnummer (third digit 2: a legal person; a Luhn check digit)."""
    body = f"212{i:06d}"
    return f"{body[:6]}-{body[6:]}{luhn.calc_check_digit(body)}"


def history(units: int, organisations: int, days: int, seed: int = 5) -> list[str]:
    """`units` units (4 workplaces to 1 care unit), unit i of organisation i mod `organisations`."""
    care_units = max(1, units // 5)
    scenario = Scenario(seed=seed, days=days, units=units - care_units, care_units=care_units,
                        care_persons=40 * care_units, drift_unit=None)
    names = [organisation_number(i) for i in range(organisations)]
    out = []
    for _, line in generate(scenario):
        doc = json.loads(line) if line.startswith("{") else None
        if organisations > 1 and isinstance(doc, dict) and isinstance(doc.get("unit_id"), str):
            index = int(doc["unit_id"].rsplit("-", 1)[1])
            doc["organisation"] = names[(index + (7 if doc["unit_id"].startswith("care") else 0)) % organisations]
            line = json.dumps(doc)
        out.append(line)
    return out


class CountingTable(dict):  # type: ignore[type-arg]
    """A table that counts the bytes it is given: a record's key and value, a deletion's key."""

    written = records = tombstones = 0

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self.written += len(key) + len(value)
        self.records += 1
        super().__setitem__(key, value)

    def __delitem__(self, key: bytes) -> None:
        self.written += len(key)
        self.tombstones += 1
        super().__delitem__(key)


def writer(kind: str, table: CountingTable) -> StateCache[OrgState]:
    decode, fresh = (lambda raw: OrgState.from_dict(loads_dict(raw))), (lambda _: OrgState())
    if kind == "parted":
        return PartedCache(table, OrgParts(), decode, fresh, partitions=8)
    return StateCache(table, decode, fresh, partitions=8)


class _Watched(OrgDrift):
    """Notes which groups' states each call changes, and the CPU the organisation stage takes."""

    def __init__(self, config: MonitorConfig) -> None:
        super().__init__(config)
        self.changed: dict[int, OrgState] = {}
        self.cpu_s = 0.0

    def apply(self, state: OrgState, summaries: list[DaySummary]) -> list[Flag]:
        self.changed[id(state)] = state
        t = time.process_time()
        try:
            return super().apply(state, summaries)
        finally:
            self.cpu_s += time.process_time() - t


@dataclass
class ScaleRun:
    units: int
    organisations: int
    events: int
    replay_s: float
    written_bytes: int
    writes: int
    largest_state: int
    rss_mb: float
    writer: str = "parted"
    write_s: float = 0.0
    records: int = 0
    tombstones: int = 0
    stored_bytes: int = 0
    org_s: float = 0.0  # the organisation stage's CPU, part of the replay's

    @property
    def bytes_per_event(self) -> float:
        return self.written_bytes / self.events


def run(units: int, organisations: int, days: int, batch_events: int, sample_every: int = 1,
        kind: str = "parted") -> ScaleRun:
    """`sample_every` (the whole writer only): write the changed states of every such batch only, and count
    each as that many (the states grow smoothly, and writing all of them would take longer than the replay)."""
    lines = history(units, organisations, days)
    config = MonitorConfig()
    monitor = Monitor(config, Pseudonymiser(KEY))
    watched = monitor.org_drift = _Watched(config)
    table = CountingTable()
    cache = writer(kind, table)
    sample_every = 1 if kind == "parted" else sample_every
    writes = 0
    t = time.process_time()
    write_s = 0.0

    def write(sampled: bool) -> None:
        nonlocal writes, write_s
        e = time.process_time()
        if sampled:
            keys = {id(s): k for k, s in monitor.groups.items()}
            for state in watched.changed.values():
                cache.write_state(keys[id(state)], state, dumps)
            writes += len(watched.changed) * sample_every
        watched.changed.clear()
        write_s += time.process_time() - e

    for i, line in enumerate(lines, 1):
        monitor.process(line, NOW)
        if i % batch_events == 0:
            write((i // batch_events) % sample_every == 0)
    monitor.finish()
    write(True)  # the end of the input: the last batch
    replay_s = time.process_time() - t - write_s
    if sample_every == 1:  # what a worker restarted now reads: the states as written
        restarted = writer(kind, table)
        for key, state in monitor.groups.items():
            assert restarted.take(key).to_dict() == state.to_dict(), key
    largest = max(len(dumps(s)) for s in monitor.groups.values())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return ScaleRun(units, organisations, len(lines), replay_s, table.written * sample_every, writes, largest, rss,
                    kind, write_s, table.records, table.tombstones, sum(len(k) + len(v) for k, v in table.items()),
                    watched.cpu_s)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--units", type=int, required=True)
    ap.add_argument("--organisations", type=int, default=1)
    ap.add_argument("--days", type=int, default=120)
    ap.add_argument("--batch-events", type=int, default=1_000)
    ap.add_argument("--sample-every", type=int, default=1)
    ap.add_argument("--writer", choices=("parted", "whole"), default="parted")
    args = ap.parse_args(argv)
    r = run(args.units, args.organisations, args.days, args.batch_events, args.sample_every, args.writer)
    say(f"{r.units} units in {r.organisations} organisation(s), {r.writer} writer: {r.events:,} events, replay "
        f"{r.replay_s:.1f} s CPU ({r.events / r.replay_s:,.0f}/s; the organisation stage {r.org_s:.1f} s), "
        f"writes {r.write_s:.1f} s CPU, org state "
        f"written {r.bytes_per_event:,.0f} B per input event ({r.writes:,} group writes: {r.records:,} records, "
        f"{r.tombstones:,} tombstones; held {r.stored_bytes / 1e6:.2f} MB, largest state "
        f"{r.largest_state / 1e6:.2f} MB), peak RSS {r.rss_mb:,.0f} MB")
    print(json.dumps(r.__dict__ | {"bytes_per_event": r.bytes_per_event}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

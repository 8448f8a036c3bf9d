"""The organisation stage at scale (`python -m benchmarks.org_scale`): bytes of organisation state written
per input event, replay time and memory, for a number of units spread over a number of organisations.

The worker writes each peer group its batch changed once per batch (agents/stages/organisation.py); here
the core runs as `replay` does and a "batch" is every `batch_events` input events: the bytes counted are
those of the changed groups' states, encoded as the worker encodes them, at the end of each batch.
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
from streams.agents.runtime.codec import dumps
from streams.core.config import MonitorConfig
from streams.core.monitor import Monitor
from streams.core.org.drift import OrgDrift
from streams.core.org.state import OrgState
from streams.core.pseudonym import Pseudonymiser
from streams.core.unit.tracker import DaySummary
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


class _Watched(OrgDrift):
    """Notes which groups' states each call changes."""

    def __init__(self, config: MonitorConfig) -> None:
        super().__init__(config)
        self.changed: dict[int, OrgState] = {}

    def apply(self, state: OrgState, summaries: list[DaySummary]) -> list[Flag]:
        self.changed[id(state)] = state
        return super().apply(state, summaries)


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

    @property
    def bytes_per_event(self) -> float:
        return self.written_bytes / self.events


def run(units: int, organisations: int, days: int, batch_events: int, sample_every: int = 1) -> ScaleRun:
    """`sample_every`: encode the changed states of every such batch only, and count each as that many (the
    largest runs: the states grow smoothly, and encoding all of them would take longer than the replay)."""
    lines = history(units, organisations, days)
    config = MonitorConfig()
    monitor = Monitor(config, Pseudonymiser(KEY))
    watched = monitor.org_drift = _Watched(config)
    written = writes = largest = 0
    t = time.process_time()
    encode_s = 0.0
    for i, line in enumerate(lines, 1):
        monitor.process(line, NOW)
        if i % batch_events == 0 or i == len(lines):
            e = time.process_time()
            if (i // batch_events) % sample_every == 0:
                for state in watched.changed.values():
                    size = len(dumps(state))
                    written, largest = written + size * sample_every, max(largest, size)
            writes += len(watched.changed)
            watched.changed.clear()
            encode_s += time.process_time() - e
    monitor.finish()
    replay_s = time.process_time() - t - encode_s
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return ScaleRun(units, organisations, len(lines), replay_s, written, writes, largest, rss)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--units", type=int, required=True)
    ap.add_argument("--organisations", type=int, default=1)
    ap.add_argument("--days", type=int, default=120)
    ap.add_argument("--batch-events", type=int, default=1_000)
    ap.add_argument("--sample-every", type=int, default=1)
    args = ap.parse_args(argv)
    r = run(args.units, args.organisations, args.days, args.batch_events, args.sample_every)
    say(f"{r.units} units in {r.organisations} organisation(s): {r.events:,} events, replay {r.replay_s:.1f} s "
        f"CPU ({r.events / r.replay_s:,.0f}/s), org state written {r.bytes_per_event:,.0f} B per input event "
        f"({r.writes:,} writes, largest {r.largest_state / 1e6:.2f} MB), peak RSS {r.rss_mb:,.0f} MB")
    print(json.dumps(r.__dict__ | {"bytes_per_event": r.bytes_per_event}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

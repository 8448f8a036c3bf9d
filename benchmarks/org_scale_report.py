"""`python -m benchmarks.org_scale_report` (the last step of `make bench`): the organisation stage at
50, 500 and 5,000 units in 1, 5 and 20 organisations, each run in a fresh process (benchmarks/org_scale.py),
written to BENCHMARKS.md as its own section (kept when the other sections are written again)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

from benchmarks.host import ROOT, machine, say

HEADING = "## The organisation stage at scale"
#: (units, organisations, input events per batch, writer): the worker's writer (each group's changes,
#: parted) and, at 50 and 500 units, the release before's (each changed group whole) for comparison.
GRID = ((50, 1, 1000, "whole"), (50, 1, 1000, "parted"), (50, 5, 1000, "parted"), (500, 1, 1000, "whole"),
        (500, 1, 1000, "parted"), (500, 5, 1000, "parted"), (500, 20, 1000, "parted"), (5000, 20, 1000, "parted"),
        (50, 1, 50, "whole"), (50, 1, 50, "parted"), (50, 5, 50, "parted"), (500, 5, 50, "parted"))


def measured(units: int, organisations: int, batch: int, writer: str, days: int) -> dict[str, float]:
    say(f"organisation stage: {units} units in {organisations} organisation(s), batches of {batch} events, "
        f"{writer} writer")
    out = subprocess.run([sys.executable, "-m", "benchmarks.org_scale", "--units", str(units), "--organisations",
                          str(organisations), "--batch-events", str(batch), "--writer", writer,
                          "--days", str(days)], check=True, text=True, stdout=subprocess.PIPE, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def table(runs: list[dict[str, float]]) -> list[str]:
    lines = ["| units | organisations | events per batch | writer | input events | replay CPU s | events/s | "
             "writes CPU s | org state written per input event | records, tombstones | largest group state | "
             "peak RSS |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        lines.append(f"| {r['units']:,} | {r['organisations']} | {r.get('batch_events', 1000):,} | {r['writer']} | "
                     f"{r['events']:,} | {r['replay_s']:.1f} | {r['events'] / r['replay_s']:,.0f} | "
                     f"{r['write_s']:.2f} | {r['bytes_per_event']:,.0f} B | {r['records']:,}, {r['tombstones']:,} | "
                     f"{r['largest_state'] / 1e6:.2f} MB | {r['rss_mb']:,.0f} MB |")
    return lines


def write_section(path: Path, section: str) -> None:
    old = path.read_text() if path.exists() else ""
    if HEADING in old:
        start = old.index(HEADING)
        end = old.find("\n## ", start + len(HEADING))
        old = old[:start] + old[end + 1:] if end >= 0 else old[:start]
    path.write_text(old.rstrip() + "\n\n" + section.rstrip() + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--days", type=int, default=120)
    ap.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = ap.parse_args(argv)
    runs = [measured(u, o, b, w, args.days) | {"batch_events": b} for u, o, b, w in GRID]
    section = [HEADING, "",
               f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {machine()} by "
               f"`python -m benchmarks.org_scale_report` ({args.days} days of simulated history; 4 workplaces to "
               "1 care unit; unit i of organisation i mod n). The core runs as `replay` does; a batch of the "
               "organisation stage is every *events per batch* input events, and what it writes is what the writer "
               "(*parted*: the worker's, each changed group's changed parts; *whole*: the release before's) "
               "gives the table for each peer group the batch changed: records (key and value) and tombstones "
               "(key).", "", *table(runs), ""]
    write_section(args.out, "\n".join(section))
    say(f"{HEADING[3:]}: written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

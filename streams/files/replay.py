"""`outcome-monitor replay`: run the core over a file of JSON lines, in file order (= arrival order)."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from streams.core.monitor import Monitor
from streams.core.org.levels import relative_levels
from streams.core.timebase import day_to_date, from_epoch, local_day
from streams.progress import Progress


def open_lines(path: Path) -> Iterator[bytes]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:  # type: ignore[operator]
        for raw in fh:
            line = raw.rstrip(b"\r\n")
            if line.strip():
                yield line


def replay(monitor: Monitor, path: Path, *, rejects: IO[str] | None = None,
           progress: Progress | None = None) -> float:
    """Feed every line to the monitor; returns elapsed seconds."""
    now = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    for lineno, line in enumerate(open_lines(path), start=1):
        result = monitor.process(line, now, source_offset=f"{path.name}:{lineno}")
        if result.rejection is not None and rejects is not None:
            rejects.write(result.rejection.model_dump_json() + "\n")
        if progress is not None:
            progress.tick(lineno)
    elapsed = time.perf_counter() - started
    if progress is not None:
        progress.done(monitor.tally.read)
    return elapsed


def write_flags(monitor: Monitor, out: IO[str]) -> int:
    flags = monitor.open_flags()
    for flag in flags:
        out.write(flag.model_dump_json() + "\n")
    return len(flags)


def indicators_document(monitor: Monitor) -> dict[str, object]:
    relative = {r.unit_id: r for r in relative_levels(monitor.org, monitor.config.min_group_size)}
    units = []
    for ind in monitor.unit_indicators():
        doc = ind.as_dict()
        level = relative.get(ind.unit_id)
        if level is not None:
            doc["trend_adjusted_ratio"] = {
                "week_start": day_to_date(level.week_start).isoformat(), "value": level.ratio,
                "low": level.low, "high": level.high, "baseline": level.baseline,
            }
        units.append(doc)
    persons = []
    window = monitor.config.rules.repeated_sick_leave_window_days
    for subject in sorted(monitor.persons):
        fold = monitor.person_stage.tracker.current(monitor.persons[subject], subject)
        if not fold.last_t:
            continue
        today = local_day(from_epoch(fold.last_t), monitor.config.timezone)
        occasions, days, _ = fold.sick_leave_window(today, window)
        persons.append({"subject_id": subject, "sick_leave_occasions_12m": occasions,
                        "sick_days_12m": days, "bradford_factor": occasions * occasions * days,
                        "ed_visits_12m": len(fold.ed_visits)})
    return {"units": units, "persons": persons}


def summary_text(monitor: Monitor, elapsed: float) -> str:
    t = monitor.tally
    rate = t.read / elapsed if elapsed > 0 else 0.0
    lines = [
        f"events read      {t.read:>10}",
        f"accepted         {t.accepted:>10}",
        f"duplicates       {t.duplicates:>10}",
        f"rejected         {sum(t.rejected.values()):>10}",
    ]
    lines += [f"  {reason:<22}{n:>8}" for reason, n in sorted(t.rejected.items())]
    lines.append(f"open flags       {len(monitor.flags):>10}")
    rules = sorted(set(t.flags_raised) | set(t.flags_withdrawn))
    for rule in rules:
        open_now = sum(1 for f in monitor.flags.values() if f.rule.value == rule)
        lines.append(f"  {rule:<26}{open_now:>4} open  (raised {t.flags_raised[rule]}, "
                     f"withdrawn {t.flags_withdrawn[rule]} after late data)")
    lines.append(f"elapsed          {elapsed:>10.2f} s   ({rate:,.0f} events/s)")
    return "\n".join(lines)


def run(monitor: Monitor, events: Path, flags_out: Path | None, rejects_out: Path | None,
        indicators_out: Path | None, quiet: bool = False) -> int:
    rejects = rejects_out.open("w") if rejects_out else None
    try:
        progress = None if quiet else Progress("replay", sys.stderr)
        elapsed = replay(monitor, events, rejects=rejects, progress=progress)
    finally:
        if rejects is not None:
            rejects.close()
    if flags_out is not None:
        with flags_out.open("w") as fh:
            write_flags(monitor, fh)
    if indicators_out is not None:
        indicators_out.write_text(json.dumps(indicators_document(monitor), indent=2) + "\n")
    print(summary_text(monitor, elapsed))
    return 0

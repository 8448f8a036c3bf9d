"""`outcome-monitor replay`: run the core over a file of JSON lines, in file order (= arrival order)."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import IO

from streams.core.monitor import Monitor, StepResult
from streams.core.org.levels import relative_levels
from streams.core.person.tracker import Retracted
from streams.core.timebase import day_to_date
from streams.files.lines import InputEndedEarly, numbered_lines
from streams.models.events import Event
from streams.progress import Progress, working


def replay(monitor: Monitor, path: Path, *, rejects: IO[str] | None = None,
           progress: Progress | None = None) -> float:
    """Feed every line to the monitor; returns elapsed seconds."""
    now = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    try:
        for lineno, line in numbered_lines(path):
            _write_rejections(monitor.feed(line, now, source_offset=f"{path.name}:{lineno}"), rejects)
            if progress is not None:
                progress.tick(monitor.tally.read)
    finally:  # also when the file ends early: what was read is processed in full
        _write_rejections(monitor.finish(), rejects)
    elapsed = time.perf_counter() - started
    if progress is not None:
        progress.done(monitor.tally.read)
    return elapsed


def _write_rejections(results: list[tuple[Event | None, StepResult]], rejects: IO[str] | None) -> None:
    if rejects is None:
        return
    for _, result in results:
        if result.rejection is not None:
            rejects.write(result.rejection.model_dump_json() + "\n")


def write_flags(monitor: Monitor, out: IO[str]) -> int:
    """Every version of every flag, withdrawals included (each with its `withdrawn_because`), in the order
    made: the records the worker sends to the flags topic for the same input (the last record of a flag_id
    is its state, as on the topic). A unit flag's intermediate versions follow how summaries were grouped
    (one event's at a time here; the worker's organisation stage takes a batch at a time)."""
    for flag in monitor.flag_stream:
        out.write(flag.model_dump_json() + "\n")
    return len(monitor.flag_stream)


def indicators_document(monitor: Monitor, persons: list[dict[str, object]] | None = None) -> dict[str, object]:
    """`persons`: the persons' part when it was made elsewhere (`replay --jobs`: by each shard)."""
    relative = {r.unit_id: r for group in monitor.groups.values()
                for r in relative_levels(group, monitor.config.min_group_size)}
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
    if persons is None:
        persons = monitor.person_indicators()
    return {"units": units, "persons": sorted(persons, key=lambda p: str(p["subject_id"]))}


def programme_figures_document(monitor: Monitor, progress: IO[str] | None = None) -> dict[str, object]:
    """Each configured programme's figures for the quarter of the last complete month, by `programme/quarter`
    (what the worker publishes to its programme-figures topic under the same keys); a programme's estimate
    can take a while, so with `progress` a line says which one is being computed, every few seconds."""
    quarter = monitor.programme_stage.quarter(monitor.ledgers)
    programmes = monitor.config.programmes
    document: dict[str, object] = {}
    for i, programme in enumerate(programmes, 1):
        with working(f"replay: programme figures {i}/{len(programmes)} ({programme.name}, {quarter})", progress):
            document.update({f.key: f.results.published()
                             for f in monitor.programme_figures(quarter, only=programme.name)})
    return document


def summary_text(monitor: Monitor, elapsed: float, figures_s: float | None = None) -> str:
    """`elapsed` is the whole run, the programme figures (`figures_s` of it) included."""
    t = monitor.tally
    rate = t.read / elapsed if elapsed > 0 else 0.0
    lines = [
        f"events read      {t.read:>10}",
        f"accepted         {t.accepted:>10}",
        f"duplicates       {t.duplicates:>10}",
        f"rejected         {sum(t.rejected.values()):>10}",
    ]
    lines += [f"  {reason:<22}{n:>8}" for reason, n in sorted(t.rejected.items())]
    if t.retractions:
        lines.append(f"retractions      {sum(t.retractions.values()):>10}")
        lines += [f"  {what:<22}{t.retractions[what]:>8}" for what in Retracted if t.retractions[what]]
    lines.append(f"open flags       {len(monitor.flags):>10}")
    rules = sorted(set(t.flags_raised) | {rule for rule, _ in t.flags_withdrawn})
    for rule in rules:
        open_now = sum(1 for f in monitor.flags.values() if f.rule.value == rule)
        withdrawn = [(because, n) for (r, because), n in sorted(t.flags_withdrawn.items()) if r == rule]
        why = ": " + ", ".join(f"{n} {because.replace('_', ' ')}" for because, n in withdrawn) if withdrawn else ""
        lines.append(f"  {rule:<26}{open_now:>4} open  (raised {t.flags_raised[rule]}, "
                     f"withdrawn {sum(n for _, n in withdrawn)}{why})")
    lines.append(f"elapsed          {elapsed:>10.2f} s   ({rate:,.0f} events/s)")
    if figures_s is not None:
        lines.append(f"  of which programme figures {figures_s:>6.2f} s")
    return "\n".join(lines)


def run(monitor: Monitor, events: Path, flags_out: Path | None, rejects_out: Path | None,
        indicators_out: Path | None, quiet: bool = False, programmes_out: Path | None = None,
        jobs: int = 1) -> int:
    """`jobs` > 1: the persons' stages in that many processes (files/sharded.py), the same outputs."""
    rejects = rejects_out.open("w") if rejects_out else None
    ended_early: InputEndedEarly | None = None
    persons: list[dict[str, object]] | None = None
    started = time.perf_counter()
    try:
        progress = None if quiet else Progress("replay", sys.stderr)
        if jobs > 1:
            from streams.files.sharded import replay_sharded  # it reads lines as this module does

            elapsed, persons, ended_early = replay_sharded(monitor, events, jobs, rejects=rejects,
                                                           progress=progress)
        else:
            elapsed = replay(monitor, events, rejects=rejects, progress=progress)
    except InputEndedEarly as exc:
        ended_early, elapsed = exc, time.perf_counter() - started
    finally:
        if rejects is not None:
            rejects.close()
    if flags_out is not None:
        with flags_out.open("w") as fh:
            write_flags(monitor, fh)
    if indicators_out is not None:
        indicators_out.write_text(json.dumps(indicators_document(monitor, persons), indent=2) + "\n")
    figures_s = None
    if programmes_out is not None:
        started = time.perf_counter()
        document = programme_figures_document(monitor, None if quiet else sys.stderr)
        programmes_out.write_text(json.dumps(document, indent=2) + "\n")
        figures_s = time.perf_counter() - started
    print(summary_text(monitor, elapsed + (figures_s or 0.0), figures_s))
    if ended_early is not None:
        print(f"replay: {ended_early}; the results above are of those lines only", file=sys.stderr)
        return 1
    return 0

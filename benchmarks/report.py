"""BENCHMARKS.md from the figures of a run: each section's table beside its baseline and its target's
verdict, the scale-out on paper, the profile notes and replay's profile; the soak section that
`make soak` wrote is kept."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, NamedTuple

from benchmarks.host import machine
from benchmarks.profile_notes import PROFILE_NOTES
from benchmarks.replay_profile import BEFORE, BEFORE_HOT_PATH, profile_replay
from benchmarks.scale_out import scale_out

#: Under sections 1 and 2: where the measurements made by hand are (a section of their own, kept by this report).
BY_HAND = ("Measured by hand for issue 32, dated, beside the release before: [Measured by hand for issue 32]"
           "(#measured-by-hand-for-issue-32-dated-make-bench-keeps-this-section) below.")


class Baselines(NamedTuple):
    """Section 2's baselines of one run: the bare aiokafka consumer's drain (events/s, events, seconds)
    and the bare faust agent's events/s by variant ("" as faust comes, "settings", "mended")."""

    consumer: dict[str, float] | None
    faust: dict[str, float]


def verdict(met: bool) -> str:
    return "**Met.**" if met else "**Not met** (see the notes at the end)."


def write_report(path: Path, r: dict[str, object], mem: list[dict[str, object]], live: list[dict[str, object]],
                 bare: Baselines, lat: dict[str, object] | None, command: str,
                 worker_mem: list[dict[str, object]], rev: dict[str, object] | None = None) -> str:
    lines = [
        "# Benchmarks", "",
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {machine()}.",
        f"Command: `{command}`. Each figure stands beside a baseline measured in the same run.", "",
        "## 1. Replay (the core, in one process)", "",
        "Seconds are CPU time of the process, for the baseline and replay alike (the cores are shared); the "
        "baseline is the fastest of three loops.", "",
        "| what | events | seconds | events/s | cost vs bare parse |", "|---|---|---|---|---|",
    ]
    small: dict[str, object] = r.get("small") or r  # type: ignore[assignment]
    for size, x in (("1x", small), ("8x", r)):
        lines += [
            f"| bare `json.loads` loop (baseline), {size} | {x['events']:,} | {x['bare_s']:.2f} | "
            f"{x['bare_eps']:,.0f} | 1.0x |",
            f"| `replay` core: validation, indicators, rules, drift, {size} | {x['events']:,} | "
            f"{x['replay_s']:.2f} | {x['replay_eps']:,.0f} | **{x['ratio']:.1f}x** |",
        ]
    worst = max(float(small["ratio"]), float(r["ratio"]))  # type: ignore[arg-type]
    lines += ["", f"Target: at most 8x a bare parse. {verdict(worst <= 8)}", ""]
    history: dict[str, Any] | None = r.get("history")  # type: ignore[assignment]
    if history is not None:
        n = history["copies"]
        one, whole = history["1x"], history[f"{n}x"]
        growth = float(history["growth"])
        lines += [f"Replay's CPU per event as the history grows longer (benchmarks/replay_speed.py `bench_history`): "
                  f"the simulated year ({history['events']:,} events), and {n} years of the same units and persons "
                  "(the year preceded by copies of itself, a whole number of weeks apart), so that units, "
                  "organisation and persons reach `retention_days` and `refold_weeks` and forget; in one run.", "",
                  "| history | events | us/event | per year of it, in order (us/event) |", "|---|---|---|---|",
                  f"| 1x | {one['events']:,} | {one['us_per_event']:.1f} | {one['us_per_event']:.1f} |",
                  f"| {n}x | {whole['events']:,} | {whole['us_per_event']:.1f} | "
                  + ", ".join(f"{x:.1f}" for x in whole["per_copy_us"]) + " |", "",
                  f"Per-event cost at {n}x the history is {growth:.2f}x its cost at 1x; target within 10%. "
                  f"{verdict(growth <= 1.10)}", ""]
    jobs: list[dict[str, object]] = r.get("jobs") or []  # type: ignore[assignment]
    if jobs:
        one = float(str(jobs[0]["wall_s"]))
        lines += ["`replay --jobs N` (files/sharded.py: the persons' stages in N processes, the clock, units and "
                  "organisation in the main one; the same outputs), each in a fresh process, the fastest of "
                  f"{len(jobs[0]['runs'])} runs (every run's wall time given); load: the machine's 1-minute "  # type: ignore[arg-type]
                  "load average at the start (2 cores, shared):", "",
                  "| jobs | wall s | main process CPU s | shards CPU s | all CPU s | speed-up (wall) | runs (wall s) "
                  "| load |",
                  "|---|---|---|---|---|---|---|---|"]
        for x in jobs:
            cpu = float(str(x["main_cpu_s"])) + float(str(x["shards_cpu_s"]))
            runs = ", ".join(f"{float(str(run['wall_s'])):.1f}" for run in x["runs"])  # type: ignore[attr-defined]
            lines.append(f"| {x['jobs']} | {float(str(x['wall_s'])):.1f} | {float(str(x['main_cpu_s'])):.1f} | "
                         f"{float(str(x['shards_cpu_s'])):.1f} | {cpu:.1f} | {one / float(str(x['wall_s'])):.2f}x | "
                         f"{runs} | {float(str(x['load'])):.1f} |")
        two = next((x for x in jobs if x["jobs"] == 2), None)
        ceiling: dict[str, float] | None = r.get("ceiling")  # type: ignore[assignment]
        if ceiling is not None:
            lines += ["", f"The machine's own ceiling for 2 busy processes, measured beside it "
                      "(`replay_jobs.parallel_ceiling`: one pure-Python loop alone, then two at once): "
                      f"**{ceiling['ceiling']:.2f}x** ({ceiling['alone_s']:.2f} s alone, {ceiling['together_s']:.2f} s "
                      f"for two; load {ceiling['load']:.1f}). 2.0x means two free cores."]
        if two is not None:
            speed = one / float(str(two["wall_s"]))
            share = f" ({speed / ceiling['ceiling']:.0%} of what the machine gives two processes)" if ceiling else ""
            lines += ["", f"Target: at least 1.7x with 2 processes: {speed:.2f}x{share}. {verdict(speed >= 1.7)}", ""]
    bare_eps = bare.consumer["eps"] if bare.consumer else None
    faust_eps, settings_eps, mended_eps = (bare.faust.get(v) for v in ("", "settings", "mended"))
    lines += [BY_HAND, ""]
    if live:
        lines += ["## 2. Live throughput (real Kafka, events already in the topic, until all outputs are out)", "",
                  "| consumer | partitions | workers | events | events/s | vs bare consumer | vs bare faust agent |",
                  "|---|---|---|---|---|---|---|"]

        def ratios(eps: float) -> str:
            return " | ".join(f"{eps / base:.3f}x" if base else "-" for base in (bare_eps, faust_eps))

        drained = (f", {bare.consumer['events']:,.0f} records in {bare.consumer['seconds']:.1f} s, clock started "
                   "before the first fetch" if bare.consumer else "")
        baselines = (
            (f"bare aiokafka consumer reading and JSON-decoding (baseline{drained})", bare_eps),
            ("bare faust agent reading and JSON-decoding (the framework alone, `benchmarks/bare_faust.py`)",
             faust_eps),
            ("the same bare faust agent with the worker's producer and fetch settings (`DELIVERY_OPTIONS`)",
             settings_eps),
            ("the same bare faust agent with the worker's faust mending (`streams/agents/faust_fixes.py`)",
             mended_eps),
        )
        for label, eps in baselines:
            if eps:
                lines.append(f"| {label} | {live[0]['partitions']} | 1 | {live[0]['events']:,} | {eps:,.0f} | "
                             f"{ratios(eps)} |")
        for run in live:
            lines.append(f"| outcome-monitor worker | {run['partitions']} | {run['workers']} | {run['events']:,} | "
                         f"{run['eps']:,.0f} | {ratios(float(run['eps']))} |")
        span = float(str(live[0]["span_eps"])) if "span_eps" in live[0] else None
        if span:
            lines.append(f"| outcome-monitor worker, first output to last (the bare faust agent's clock) | "
                         f"{live[0]['partitions']} | 1 | {live[0]['events']:,} | {span:,.0f} | {ratios(span)} |")
        met = bool(faust_eps) and float(live[0]["eps"]) >= float(faust_eps or 0)
        lines += ["", "Resident memory of the worker process(es) once drained (tables in memory, Python, faust, "
                  "buffers; per person see section 4):",
                  *[f"- {run['partitions']} partition(s), {run['workers']} worker(s): "
                    f"{float(run['rss']) / 2**20:,.0f} MiB with {run['persons']:,.0f} persons in the tables"
                    for run in live],
                  "", "Table changelog writes per input event (target: at most 0.15 person-state records):",
                  *[f"- {run['partitions']} partition(s), {run['workers']} worker(s): " + ", ".join(
                      f"{table} {rec:.3f} records" + (f" ({size:,.0f} B)" if size is not None else "")
                      for table, (rec, size) in run["written"].items())  # type: ignore[attr-defined]
                    for run in live if "written" in run],
                  "", "The worker's rows run from ready until its positions say every record is processed (the "
                  "first fetch, the state write interval and the positions' polling included); the bare agents' "
                  "from their first record to their last, as does the row *first output to last* "
                  "(`benchmarks/live_throughput.py`).",
                  "", "Target: at least 1.0x the bare faust agent that reads and decodes the same topic, on both "
                  f"clocks. {verdict(met and (span is None or span >= float(faust_eps or 0)))}", ""]
        if bare_eps and faust_eps:
            share = float(live[0]["eps"]) / faust_eps
            lines += [f"The framework alone (a faust agent that only reads and decodes) reaches "
                      f"{faust_eps / bare_eps:.3f}x of the bare consumer here; the worker, with all of its work, "
                      f"runs at {share:.2f}x of the framework alone."
                      + (f" With the worker's mending, faust alone reaches {mended_eps / bare_eps:.3f}x."
                         if mended_eps else ""), ""]
    if lat:
        lines += [BY_HAND, ""]
        lines += ["## 3. Latency at a fixed publish rate", "",
                  f"{lat['events']:,} ED-visit events at {lat['rate']:.0f}/s for {lat['seconds']:.0f} s, "
                  f"{lat['flags']} flags.", "",
                  "| latency | p50 | p99 |", "|---|---|---|",
                  f"| event sent -> flag record written (wall clock) | {lat['flag_p50']:.3f} s | "
                  f"{lat['flag_p99']:.3f} s |",
                  f"| record read by the worker -> result sent (histogram bucket bound) | "
                  f"<= {lat['metric_p50_le']} s | <= {lat['metric_p99_le']} s |", ""]
        runs_lat = lat.get("runs") or [lat]
        lines += [f"The run with the higher p99 of {len(runs_lat)} (p99 of each run: "  # type: ignore[union-attr]
                  + ", ".join(f"{float(x['flag_p99']):.3f} s" for x in runs_lat) + "). The publisher (librdkafka, "
                  "in a process of its own) used "
                  + ", ".join(f"{float(x.get('publisher_cpu', 0.0)):.0%}" for x in runs_lat)  # type: ignore[union-attr]
                  + " of a core.", "",
                  f"Target: p99 < 1 s on an otherwise idle machine. {verdict(float(lat['flag_p99']) < 1.0)}", ""]
        busy = lat.get("busy")
        if isinstance(busy, dict):
            lines += [f"With `stress-ng --cpu {busy['busy_cores']}` beside it: p50 {float(busy['flag_p50']):.3f} s, "
                      f"p99 {float(busy['flag_p99']):.3f} s. Target: p99 < 2 s. "
                      f"{verdict(float(busy['flag_p99']) < 2.0)}", ""]
    lines += ["## 4. Memory per tracked person", "",
              "The worker (the production process; its tables hold each person's state as bytes and it keeps "
              "at most `decoded_person_states` decoded), growth of resident memory from ready to drained:", "",
              "| persons | worker memory per person |", "|---|---|"]
    for m in worker_mem:
        each = m.get("runs")
        spread = (" (median of " + ", ".join(f"{float(str(x['rss_per_person'])):,.0f}" for x in each) + " B)"  # type: ignore[union-attr]
                  if each else "")
        lines.append(f"| {float(str(m['persons'])):,.0f} | {float(str(m['rss_per_person'])):,.0f} B{spread} |")
    lines += ["", "`replay` (one process, every person's state decoded, with its fold cache), each size in a "
              "fresh process:", "",
              "| persons | process memory per person | serialised state per person | events/s |", "|---|---|---|---|"]
    for m in mem:
        lines.append(f"| {m['persons']:,} | {m['rss_per_person']:,.0f} B | {m['state_per_person']:,.0f} B | "
                     f"{m['eps']:,.0f} |")
    # The memory target is at 100,000 persons; at 10,000 what a worker gains from ready to drained whatever
    # their number (its buffers and caches filling) is shared by a tenth as many.
    at_target = [m for m in worker_mem if float(str(m["persons"])) >= 100_000]
    small = bool(at_target) and all(float(str(m["rss_per_person"])) < 1024 for m in at_target)
    flat = float(mem[-1]["eps"]) >= 0.8 * float(mem[0]["eps"])
    lines += ["", f"Target: under 1 KB per tracked person at 100,000 persons (the worker; at 10,000, what it "
              f"gains whatever their number, its buffers and caches filling, is shared by a tenth as many): "
              f"{verdict(small)} "
              f"Flat throughput as persons grow "
              f"(largest within 20% of smallest): {verdict(flat)}", ""]
    live_eps = float(live[0]["eps"]) if live else float(r["replay_eps"])
    per_person = float(str(worker_mem[-1]["rss_per_person"])) if worker_mem else float(mem[-1]["rss_per_person"])
    lines += ["## 5. Scale-out on paper", "", scale_out(live_eps, per_person), ""]
    if rev:
        ratio = float(rev["reversed"]) / max(float(rev["in_order"]), 1e-9)  # type: ignore[arg-type]
        lines += ["## 6. One person's events in reverse order", "",
                  f"{rev['events']:,} ED visits of one person within the allowed lateness, replayed in time "
                  f"order: {float(rev['in_order']):.2f} s (baseline); in reverse: {float(rev['reversed']):.2f} s "
                  f"(**{ratio:.1f}x**). Replay folds each late event in as it comes, as the worker does "
                  "(what the worker sends after a crash never depends on where a batch ended, and "
                  "`replay --flags-out` writes exactly the flag versions the worker sends): a reversed "
                  "backlog of one person is quadratic in that person's events *within the allowed "
                  "lateness* (older ones are `too_late`), which real histories keep small.", ""]
    lines += [PROFILE_NOTES]
    lines += ["## Replay profile, top lines by own time (cProfile over 50,000 events)", "",
              "Before the redesign of issue 11 (e4c51c9):", "", "```", BEFORE.read_text().rstrip(), "```", "",
              "Before the replay work of 2026-12-01 (58ec202):", "", "```", BEFORE_HOT_PATH.read_text().rstrip(),
              "```", "",
              "Now (this run):", "", "```", profile_replay(50_000).rstrip(), "```", ""]
    text = "\n".join(lines)
    old = path.read_text() if path.exists() else ""
    # from the soak section on, written by `make soak`, by hand (issue 32's dated measurements) and by the
    # other benchmarks: kept
    soak = old[old.find("## Soak (`make soak`)"):] if "## Soak (`make soak`)" in old else ""
    path.write_text(text + "\n" + soak)
    return text

"""`python -m benchmarks` (or `make bench`): the speed of the monitor, each figure beside a baseline
measured in the same run, written to BENCHMARKS.md. Not part of the tests' pass/fail.

Sections: replay vs a bare json.loads loop; the live worker vs a bare aiokafka consumer on the same
topic; latency at a fixed publish rate; memory per tracked person; throughput by partitions/workers.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from pathlib import Path

from benchmarks.host import ROOT, machine, process_rss, rss_bytes, say

sys.path.insert(0, str(ROOT))

from benchmarks.bare_consumer import bare_consume  # noqa: E402
from benchmarks.latency import latency_in_fresh_process, latency_run  # noqa: E402
from benchmarks.live_throughput import live_run  # noqa: E402
from benchmarks.person_memory import bench_memory, memory_in_fresh_process, worker_memory_run  # noqa: E402
from benchmarks.profile_notes import PROFILE_NOTES  # noqa: E402
from benchmarks.publish import publish_lines  # noqa: E402
from benchmarks.replay_profile import BEFORE, BEFORE_HOT_PATH, profile_replay  # noqa: E402
from benchmarks.replay_speed import KEY, bench_replay, bench_reversed  # noqa: E402
from streams.files.simulation import Scenario, generate  # noqa: E402

# Everything this module held before it was split stays importable from here: scripts take the live
# runs from it (`from benchmarks.__main__ import publish_lines, live_run, latency_run, ...`).
__all__ = [
    "BEFORE", "BEFORE_HOT_PATH", "KEY", "PROFILE_NOTES", "ROOT", "bare_consume", "bench_memory", "bench_replay",
    "bench_reversed", "latency_in_fresh_process", "latency_run", "live_run", "machine",
    "main", "memory_in_fresh_process", "process_rss", "profile_replay", "publish_lines", "rss_bytes", "say",
    "scale_out", "verdict", "worker_memory_run", "write_report",
]

# -- report -------------------------------------------------------------------------------------------

def scale_out(live_eps: float, rss_per_person: float) -> str:
    # A region of 2 million inhabitants and 100k employees, per day (assumptions stated in the text).
    employees, inhabitants = 100_000, 2_000_000
    sick = employees * 0.06  # 6% sick-leave rate: one sick_leave event per sick employee-day
    staffing = 2_000 / 30  # 2,000 units, one headcount report a month
    ed = inhabitants * 0.2 / 365  # 200 ED visits per 1000 inhabitants and year
    stays = inhabitants * 0.12 / 365 * 2  # 120 admissions per 1000 a year, admission + discharge
    home = 25_000 * 1.5  # 25,000 people in home care, 1.5 contacts a day
    per_day = sick + staffing + ed + stays + home
    peak = per_day / 86400 * 20  # a morning peak 20x the day's average rate
    persons = employees + 400_000  # everyone with an event in the windows: staff and care users
    workers = max(1, int(-(-peak // max(live_eps * 0.5, 1))))
    return f"""Assumptions (per day): {employees:,} employees with a 6% sick-leave rate give {sick:,.0f}
sick-leave days; 2,000 units report headcount monthly ({staffing:,.0f}); {inhabitants:,} inhabitants with
200 ED visits per 1000 a year give {ed:,.0f} visits and 120 admissions per 1000 give {stays:,.0f}
admission/discharge events; 25,000 people in home care with 1.5 contacts a day give {home:,.0f}.

- Events per day: **{per_day:,.0f}** (average {per_day / 86400:.2f}/s; a morning peak at 20x that is
  {peak:.0f}/s).
- One worker measured here drains **{live_eps:,.0f} events/s**; at half of that as a safety margin the
  peak needs **{workers} worker(s)**; a backfill of a year ({per_day * 365:,.0f} events) takes
  {per_day * 365 / live_eps / 3600:.1f} h on one worker.
- Tracked persons: about {persons:,} (staff plus care users within the windows); at
  {rss_per_person:,.0f} B of process memory each that is {persons * rss_per_person / 2**30:.2f} GiB for the person
  tables in total, split over the workers.
- Partitions: 8 (the default) leaves room for 8 workers, far above the need; more partitions only for
  faster recovery of the changelog-backed tables after a restart."""


def verdict(met: bool) -> str:
    return "**Met.**" if met else "**Not met** (see the notes at the end)."


def write_report(path: Path, r: dict[str, object], mem: list[dict[str, object]], live: list[dict[str, object]],
                 bare: tuple[float | None, float | None], lat: dict[str, object] | None, command: str,
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
    lines += ["", f"Target: at most 3x, flat from 1x to 8x the size. {verdict(worst <= 3)}", ""]
    bare_eps, faust_eps = bare
    if live:
        lines += ["## 2. Live throughput (real Kafka, events already in the topic, until all outputs are out)", "",
                  "| consumer | partitions | workers | events | events/s | vs bare consumer | vs bare faust agent |",
                  "|---|---|---|---|---|---|---|"]

        def ratios(eps: float) -> str:
            return " | ".join(f"{eps / base:.3f}x" if base else "-" for base in (bare_eps, faust_eps))

        if bare_eps:
            lines.append(f"| bare aiokafka consumer reading and JSON-decoding (baseline) | {live[0]['partitions']} | 1 "
                         f"| {live[0]['events']:,} | {bare_eps:,.0f} | {ratios(bare_eps)} |")
        if faust_eps:
            lines.append(f"| bare faust agent reading and JSON-decoding (the framework alone, "
                         f"`benchmarks/bare_faust.py`) | {live[0]['partitions']} | 1 | {live[0]['events']:,} | "
                         f"{faust_eps:,.0f} | {ratios(faust_eps)} |")
        for run in live:
            lines.append(f"| outcome-monitor worker | {run['partitions']} | {run['workers']} | {run['events']:,} | "
                         f"{run['eps']:,.0f} | {ratios(float(run['eps']))} |")
        met = bool(bare_eps) and float(live[0]["eps"]) >= 0.25 * float(bare_eps or 0)
        lines += ["", "Resident memory of the worker process(es) once drained (tables in memory, Python, faust, "
                  "buffers; per person see section 4):",
                  *[f"- {run['partitions']} partition(s), {run['workers']} worker(s): "
                    f"{float(run['rss']) / 2**20:,.0f} MiB with {run['persons']:,.0f} persons in the tables"
                    for run in live],
                  "", f"Target: at least 0.25x the bare decoding consumer. {verdict(met)}", ""]
        if bare_eps and faust_eps:
            beyond, share = 0.25 * bare_eps / faust_eps, float(live[0]["eps"]) / faust_eps
            lines += [f"The framework alone (a faust agent that only reads and decodes) reaches "
                      f"{faust_eps / bare_eps:.3f}x of the bare consumer here, so 0.25x lies {beyond:.1f}x beyond "
                      f"what faust itself delivers; the worker, with all of its work, runs at {share:.2f}x of the "
                      "framework alone.", ""]
    if lat:
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
                  f"Target: p99 < 1 s. {verdict(float(lat['flag_p99']) < 1.0)}", ""]
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
    small = all(float(str(m["rss_per_person"])) < 1024 for m in worker_mem) if worker_mem else False
    flat = float(mem[-1]["eps"]) >= 0.8 * float(mem[0]["eps"])
    lines += ["", f"Target: under 1 KB per tracked person (the worker): {verdict(small)} "
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
                  f"(**{ratio:.1f}x**). replay folds late facts in once per 1,000 lines, not once per "
                  "fact, so reversed arrival costs O(n log n), not O(n^2). The worker folds each late "
                  "event in as it comes, so that what it sends after a crash never depends on where a "
                  "batch ended: a reversed backlog of one person stays quadratic there.", ""]
    lines += [PROFILE_NOTES]
    lines += ["## Replay profile, top lines by own time (cProfile over 50,000 events)", "",
              "Before the redesign of issue 11 (e4c51c9):", "", "```", BEFORE.read_text().rstrip(), "```", "",
              "Before the replay work of 2026-12-01 (58ec202):", "", "```", BEFORE_HOT_PATH.read_text().rstrip(),
              "```", "",
              "Now (this run):", "", "```", profile_replay(50_000).rstrip(), "```", ""]
    text = "\n".join(lines)
    old = path.read_text() if path.exists() else ""
    soak = old[old.find("## Soak (`make soak`)"):] if "## Soak (`make soak`)" in old else ""
    path.write_text(text + "\n" + soak)  # the soak section is written by `make soak`; kept
    return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=1_000_000, help="replay size (>= 1M for the record)")
    ap.add_argument("--live-events", type=int, default=100_000)
    ap.add_argument("--persons", default="10000,100000,1000000")
    ap.add_argument("--no-live", action="store_true", help="skip everything that needs Kafka")
    ap.add_argument("--latency-seconds", type=float, default=60)
    ap.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = ap.parse_args(argv)
    command = "python -m benchmarks " + " ".join(argv if argv is not None else sys.argv[1:])

    small = bench_replay(args.events // 8)
    say(f"replay (1x) {small['replay_eps']:,.0f}/s vs bare {small['bare_eps']:,.0f}/s: {small['ratio']:.1f}x")
    replay = bench_replay(args.events)
    say(f"replay (8x) {replay['replay_eps']:,.0f}/s vs bare {replay['bare_eps']:,.0f}/s: {replay['ratio']:.1f}x")
    replay["small"] = small
    reversed_run = bench_reversed(10_000)
    memory = [memory_in_fresh_process(int(n)) for n in args.persons.split(",")]
    live: list[dict[str, object]] = []
    bare = bare_faust = None
    lat = None
    worker_mem: list[dict[str, object]] = []
    if not args.no_live:
        from benchmarks.bare_faust import bare_faust_consume
        from tests.integration.live import BOOTSTRAP, ensure_broker

        ensure_broker()
        workdir = Path("/tmp/outcome-monitor-bench")
        workdir.mkdir(parents=True, exist_ok=True)
        scenario = Scenario(seed=202, days=365, units=20, care_persons=max(200, args.live_events // 210))
        lines = [line.encode() for _, line in generate(scenario)][: args.live_events]
        first = live_run(lines, 8, 1, workdir)
        bare = asyncio.run(bare_consume(first["ns"].events, len(lines)))  # type: ignore[union-attr]
        say("live: a bare faust agent on the same topic (the framework's own ceiling)")
        bare_faust = bare_faust_consume(first["ns"].events, len(lines), BOOTSTRAP)  # type: ignore[attr-defined]
        live.append(first)
        for partitions, workers in ((1, 1), (2, 2), (4, 4)):
            live.append(live_run(lines[: args.live_events // 2], partitions, workers, workdir))
        # Two latency runs and three memory runs at 100,000 persons: each varies from run to run (the
        # broker and the collector share the 2 cores), so the report gives every run and judges the worst
        # latency and the median memory.
        lats = [latency_in_fresh_process(1000, args.latency_seconds) for _ in range(2)]
        lat = max(lats, key=lambda x: float(str(x["flag_p99"])))
        lat["runs"] = lats
        worker_mem = [worker_memory_run(10_000, workdir)]
        runs = [worker_memory_run(100_000, workdir) for _ in range(3)]
        middle = sorted(runs, key=lambda x: float(str(x["rss_per_person"])))[1]
        worker_mem.append({**middle, "runs": runs})
    text = write_report(args.out, replay, memory, live, (bare, bare_faust), lat, command, worker_mem, reversed_run)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

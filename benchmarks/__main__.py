"""`python -m benchmarks` (or `make bench`): the speed of the monitor, each figure beside a baseline
measured in the same run, written to BENCHMARKS.md. Not part of the tests' pass/fail.

Sections: replay vs a bare json.loads loop; the live worker vs a bare aiokafka consumer on the same
topic; latency at a fixed publish rate; memory per tracked person; throughput by partitions/workers.
"""

from __future__ import annotations

import argparse
import asyncio
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
from benchmarks.replay_jobs import bench_jobs, parallel_ceiling  # noqa: E402
from benchmarks.replay_profile import BEFORE, BEFORE_HOT_PATH, profile_replay  # noqa: E402
from benchmarks.replay_speed import KEY, bench_history, bench_replay, bench_reversed, simulated_lines  # noqa: E402
from benchmarks.report import Baselines, verdict, write_report  # noqa: E402
from benchmarks.scale_out import scale_out  # noqa: E402
from streams.simulators.simulation import Scenario, generate  # noqa: E402

# Everything this module held before it was split stays importable from here: scripts take the live
# runs from it (`from benchmarks.__main__ import publish_lines, live_run, latency_run, ...`).
__all__ = [
    "BEFORE", "BEFORE_HOT_PATH", "KEY", "PROFILE_NOTES", "ROOT", "bare_consume", "bench_jobs", "bench_memory",
    "bench_history", "bench_replay", "parallel_ceiling",
    "bench_reversed", "latency_in_fresh_process", "latency_run", "live_run", "machine",
    "main", "memory_in_fresh_process", "process_rss", "profile_replay", "publish_lines", "rss_bytes", "say",
    "scale_out", "verdict", "worker_memory_run", "write_report",
]


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
    replay["history"] = bench_history(args.events // 8)
    replay["jobs"] = bench_jobs(simulated_lines(args.events // 4))
    replay["ceiling"] = parallel_ceiling(2)
    reversed_run = bench_reversed(1_000)
    memory = [memory_in_fresh_process(int(n)) for n in args.persons.split(",")]
    live: list[dict[str, object]] = []
    bare: dict[str, float] | None = None
    faust_runs: dict[str, float] = {}
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
        say(f"live: a bare aiokafka consumer drained {bare['events']:,.0f} records in {bare['seconds']:.1f} s")
        faust_runs = {}
        for variant, what in (("", "a bare faust agent on the same topic (the framework's own ceiling)"),
                              ("settings", "the same agent with the worker's producer and fetch settings"),
                              ("mended", "the same agent with the worker's faust mending (faust_fixes.py)")):
            say(f"live: {what}")
            faust_runs[variant] = bare_faust_consume(first["ns"].events, len(lines), BOOTSTRAP,  # type: ignore[attr-defined]
                                                     variant)
        live.append(first)
        for partitions, workers in ((1, 1), (2, 2), (4, 4)):
            live.append(live_run(lines[: args.live_events // 2], partitions, workers, workdir))
        # Two latency runs and three memory runs at 100,000 persons: each varies from run to run (the
        # broker and the collector share the 2 cores), so the report gives every run and judges the worst
        # latency and the median memory.
        lats = [latency_in_fresh_process(1000, args.latency_seconds) for _ in range(2)]
        lat = max(lats, key=lambda x: float(str(x["flag_p99"])))
        lat["runs"] = lats
        say("latency: once more with stress-ng --cpu 1 beside it")
        lat["busy"] = latency_in_fresh_process(1000, args.latency_seconds, busy_cores=1)
        worker_mem = [worker_memory_run(10_000, workdir)]
        runs = [worker_memory_run(100_000, workdir) for _ in range(3)]
        middle = sorted(runs, key=lambda x: float(str(x["rss_per_person"])))[1]
        worker_mem.append({**middle, "runs": runs})
    text = write_report(args.out, replay, memory, live, Baselines(bare, faust_runs), lat, command,
                        worker_mem, reversed_run)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

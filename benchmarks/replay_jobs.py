"""`replay --jobs N` against `replay` in one process, on the same file, each in a fresh process: wall time,
and CPU time of the main process and of its shards (the machine's cores are shared, so the CPU figures
say what the work costs and the wall figures what a user waited; `load` says how busy the machine was).

`python -m benchmarks.replay_jobs FILE N` runs one replay and prints its figures as JSON (what `bench_jobs`
starts for each N)."""

from __future__ import annotations

import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.host import ROOT, say


def bench_jobs(lines: list[bytes], jobs: tuple[int, ...] = (1, 2), runs: int = 2) -> list[dict[str, object]]:
    """Each N in `jobs`, `runs` times alternately (the machine's load changes); per N the run with the
    least wall time is kept, with every run's figures."""
    out: dict[int, list[dict[str, object]]] = {n: [] for n in jobs}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.jsonl.gz"
        with gzip.open(path, "wb", compresslevel=1) as fh:
            fh.writelines(line + b"\n" for line in lines)
        for _ in range(runs):
            for n in jobs:
                say(f"replay --jobs {n} of {len(lines):,} events")
                done = subprocess.run([sys.executable, "-m", "benchmarks.replay_jobs", str(path), str(n)],
                                      cwd=ROOT, capture_output=True, text=True, check=True)
                out[n].append(json.loads(done.stdout.strip().splitlines()[-1]))
    best = []
    for n in jobs:
        run = dict(min(out[n], key=lambda r: float(str(r["wall_s"]))))
        run["runs"] = out[n]
        best.append(run)
    return best


def _spin(loops: int) -> float:
    """A fixed amount of pure-Python work: its CPU seconds."""
    started = time.process_time()
    total = 0
    for i in range(loops):
        total += i
    return time.process_time() - started


def parallel_ceiling(processes: int = 2, loops: int = 30_000_000, runs: int = 3) -> dict[str, float]:
    """What the machine itself gives N busy processes: the same pure-Python loop once alone and then in N
    processes at once, each in a fresh process (best of `runs`). `ceiling` is N times the lone loop's wall
    time over the N loops' wall time: 2.0 on two free cores, less where the cores are shared or are
    hardware threads of one core. A speed-up of `replay --jobs N` is measured against it."""
    import multiprocessing as mp

    context = mp.get_context("spawn")
    alone, together = [], []
    with context.Pool(processes) as pool:
        pool.map(_spin, [1000] * processes)  # the workers started before the clock
        for _ in range(runs):
            started = time.perf_counter()
            pool.apply(_spin, (loops,))
            alone.append(time.perf_counter() - started)
            started = time.perf_counter()
            pool.map(_spin, [loops] * processes, chunksize=1)
            together.append(time.perf_counter() - started)
    return {"processes": processes, "alone_s": min(alone), "together_s": min(together),
            "ceiling": processes * min(alone) / min(together), "load": os.getloadavg()[0]}


def _stop_forkserver() -> None:
    """The shards' server process (files/sharded.py), stopped and reaped, with the shards it reaped in
    turn. `_stop` is what CPython's own tests call; it is private, so a Python without it leaves the
    shards' CPU out (shown as 0) rather than fail the benchmark."""
    from multiprocessing import forkserver

    stop = getattr(forkserver._forkserver, "_stop", None)
    if stop is not None:
        stop()


def main(argv: list[str]) -> int:
    from streams.cli import main as cli

    path, jobs = argv[0], int(argv[1])
    os.environ.setdefault("OUTCOME_MONITOR_PSEUDONYM_KEY", "benchmark-pseudonym-key-00000000")
    load = os.getloadavg()[0]
    started = time.perf_counter()
    with open(os.devnull, "w") as quiet:
        stdout, sys.stdout = sys.stdout, quiet
        try:
            code = cli(["replay", path, "--quiet", "--jobs", str(jobs)])
        finally:
            sys.stdout = stdout
    wall = time.perf_counter() - started
    _stop_forkserver()  # the shards are its children: their CPU counts once it is reaped
    me, shards = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"jobs": jobs, "code": code, "wall_s": wall, "main_cpu_s": me.ru_utime + me.ru_stime,
                      "shards_cpu_s": shards.ru_utime + shards.ru_stime, "load": load,
                      "load_after": os.getloadavg()[0]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

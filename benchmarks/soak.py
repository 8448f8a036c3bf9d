"""`make soak` (`python -m benchmarks.soak`): the worker under a long, realistic load, killed on a
schedule. Not a test: it reports, and rewrites the soak section of BENCHMARKS.md.

A backfill (a simulated history published at full speed with `publish`'s arrival header) is followed by
the live simulator at a steady rate; the worker is SIGKILLed and restarted every `--kill-every` seconds
throughout. At the end the flags on the flags topic are compared with `replay` of exactly what was
published: lost flags (in replay, not live) and duplicated flags (live, not in replay: an episode raised
twice) must both be 0. Also reported: restarts, the largest lag and how long it took to drain, records
the flag topic holds more than once (re-sent after a kill: at-least-once, deduplicated by flag id), and
the worker's resident memory at start and end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.host import machine, process_rss, say  # noqa: E402
from streams.simulators.simulation import Scenario, generate  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.soak")
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--kill-every", type=float, default=180.0, help="seconds between SIGKILLs")
    ap.add_argument("--rate", type=float, default=50.0, help="live events per second after the backfill")
    ap.add_argument("--report", type=Path, default=ROOT / "BENCHMARKS.md")
    args = ap.parse_args(argv)

    from tests.integration.backfill import history_records, publish_confluent
    from tests.integration.conftest import replay_flags, replayed
    from tests.integration.live import Namespace, Worker, ensure_broker, final_flags, read_topic, wait_drained

    ensure_broker()
    workdir = Path("/tmp/outcome-monitor-soak")
    workdir.mkdir(exist_ok=True)
    seconds = args.minutes * 60
    live_events = int(seconds * args.rate)
    backfill = Scenario(seed=41, days=540, units=10, care_persons=300, start=dt.date(2024, 1, 1))
    live = Scenario(seed=42, days=365, units=10, care_persons=300, start=dt.date(2025, 6, 25))
    path = workdir / "published.jsonl"
    with path.open("w") as fh:
        n_backfill = 0
        for _, line in generate(backfill):
            fh.write(line + "\n")
            n_backfill += 1
        n_live = 0
        for _, line in generate(live):
            if n_live >= live_events:
                break
            fh.write(line + "\n")
            n_live += 1
    records = history_records(path)
    say(f"soak: {n_backfill:,} backfill events, then {n_live:,} live at {args.rate:.0f}/s for "
        f"{args.minutes:.0f} min; SIGKILL every {args.kill_every:.0f} s")

    ns = Namespace(partitions=8)
    worker = Worker(ns, workdir, f"{ns.name}-w1").start()
    worker.wait_ready(180)
    rss_start = process_rss(worker)

    def publish() -> None:
        publish_confluent(ns.events, records[:n_backfill], ("lz4",), partitions=8)
        t0 = time.monotonic()
        for i in range(n_backfill, len(records), max(1, int(args.rate))):
            publish_confluent(ns.events, records[i:i + max(1, int(args.rate))], ("lz4",), partitions=8)
            time.sleep(max(0.0, t0 + (i - n_backfill) / args.rate + 1 - time.monotonic()))

    publisher = threading.Thread(target=publish, daemon=True)
    started = time.monotonic()
    publisher.start()
    restarts, largest_lag, drained_at, next_kill = 0, 0, None, started + args.kill_every
    while time.monotonic() - started < seconds or publisher.is_alive():
        time.sleep(5)
        try:
            snapshot = worker.debug_progress()
            agents = snapshot["agents"]
            if not agents:
                continue  # recovering after a kill: positions not known yet
            lag = sum(part["lag"] for agent in agents.values()  # type: ignore[attr-defined]
                      for part in agent["partitions"].values())
            input_lag = sum(part["lag"] for part in agents["ingest"]["partitions"].values())  # type: ignore[index]
            if lag > largest_lag:
                largest_lag = lag
            # drained: the backfill is through once at most a second of live input waits
            if drained_at is None and largest_lag > 0 and input_lag <= args.rate and lag <= 10 * args.rate:
                drained_at = time.monotonic() - started
        except OSError:
            pass  # restarting
        if time.monotonic() >= next_kill and time.monotonic() - started < seconds:
            worker.kill(signal.SIGKILL)
            worker.start()
            restarts += 1
            next_kill += args.kill_every
            say(f"soak: {time.monotonic() - started:,.0f} s: killed and restarted ({restarts}); largest lag "
                f"{largest_lag:,}")
    wait_drained(ns, [worker], timeout=1800)
    rss_end = process_rss(worker)
    worker.stop()

    reference = replay_flags(replayed(path))
    flags = final_flags(ns)
    lost = len(set(reference) - set(flags))
    duplicated = len(set(flags) - set(reference))
    changed = sum(1 for k in set(flags) & set(reference) if flags[k] != reference[k])
    records_per_id: dict[str, int] = {}
    for key, _ in read_topic(ns.flags):
        records_per_id[str(key)] = records_per_id.get(str(key), 0) + 1
    resent = sum(n - 1 for n in records_per_id.values() if n > 1)
    lines = [
        "## Soak (`make soak`)", "",
        f"{dt.date.today().isoformat()}, {machine()}: {n_backfill:,} backfill events at full speed, then "
        f"{n_live:,} live events at {args.rate:.0f}/s, {args.minutes:.0f} minutes in all, the worker SIGKILLed "
        f"and restarted every {args.kill_every:.0f} s.", "",
        "| measure | figure |", "|---|---|",
        f"| lost flags (in replay, not live) | {lost} |",
        f"| duplicated flags (live, not in replay) | {duplicated} |",
        f"| flags whose content differs from replay | {changed} |",
        f"| restarts (SIGKILL) | {restarts} |",
        f"| largest lag (records behind, all agents) | {largest_lag:,} |",
        f"| backlog drained after | {drained_at:,.0f} s |" if drained_at else "| backlog drained after | not seen |",
        f"| flag records re-sent after a kill (same id, deduplicated downstream) | {resent} |",
        f"| worker resident memory at start / end | {rss_start / 2**20:,.0f} MiB / {rss_end / 2**20:,.0f} MiB |",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    report = args.report.read_text() if args.report.exists() else ""
    head, _, rest = report.partition("## Soak (`make soak`)")
    tail = rest[rest.find("\n## "):] if "\n## " in rest else ""
    args.report.write_text(head.rstrip() + "\n\n" + text + tail)
    return 0 if lost == 0 and duplicated == 0 and changed == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())

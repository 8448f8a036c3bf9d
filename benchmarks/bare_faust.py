"""The framework's own ceiling: a faust agent that only reads a topic and JSON-decodes each record.

The worker's agents are faust agents (the product's framework, README); this is the same framework with
none of the monitor's work: one agent, `concurrency=1`, batches of the worker's ingest agent's size
(`take_events` with its `BATCH` and `WITHIN_S`; the worker's ingest agent itself reads its input in bulk,
agents/runtime/bulk_input.py), faust's defaults otherwise, an in-memory store, no tables, no outputs.
`make bench` runs it on the very topic the worker and the bare aiokafka consumer read, in the same run,
so section 2 can say how much of the gap to the bare consumer is the framework's
and how much is ours.

`python -m benchmarks.bare_faust TOPIC EVENTS RESULT_FILE BOOTSTRAP [mended|settings]` runs the agent until
it has read EVENTS records, writes `{"events": n, "eps": n / seconds}` (seconds from the first record to the
last) to RESULT_FILE and exits. faust takes over stdout, hence the file. With `mended`, the app is the
worker's `MonitorApp` (faust with the worker's mending, `streams/agents/faust_fixes.py`) instead of faust's
own; with `settings`, it is faust's own app with the worker's producer and fetch settings
(`DELIVERY_OPTIONS`: acks from all replicas, linger, fetch size, records per poll).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bare_faust_consume(topic: str, expected: int, bootstrap: str, variant: str = "") -> float:
    """Events per second of a bare faust agent reading and decoding `expected` records of `topic`;
    `variant` is "" (faust as it comes), "mended" or "settings" (module docstring)."""
    with tempfile.TemporaryDirectory(prefix="bare-faust-") as tmp:
        result = Path(tmp) / "result.json"
        subprocess.run([sys.executable, "-m", "benchmarks.bare_faust", topic, str(expected), str(result),
                        bootstrap, *([variant] if variant else [])],
                       cwd=ROOT, check=True, timeout=1800, stdout=subprocess.DEVNULL)
        return float(json.loads(result.read_text())["eps"])


def main() -> None:
    import faust

    from streams.agents.faust_fixes import MonitorApp
    from streams.agents.stages.ingest import BATCH, WITHIN_S
    from streams.agents.worker import DELIVERY_OPTIONS

    topic_name, expected, result, bootstrap = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
    variant = sys.argv[5] if sys.argv[5:] else ""
    app_class = MonitorApp if variant == "mended" else faust.App
    options = DELIVERY_OPTIONS if variant == "settings" else {}
    app = app_class(f"bare-faust-{os.getpid()}", broker=f"kafka://{bootstrap}", store="memory://",
                    web_enabled=False, consumer_auto_offset_reset="earliest",
                    datadir=str(result.parent / "faust"), **options)
    topic = app.topic(topic_name, value_serializer="raw", key_serializer="raw")
    seen = {"n": 0, "t0": 0.0}

    @app.agent(topic, concurrency=1)
    async def read(stream):  # type: ignore[no-untyped-def]
        async for events in stream.take_events(BATCH, within=WITHIN_S):
            if not seen["n"]:
                seen["t0"] = time.perf_counter()
            for event in events:
                json.loads(event.value)  # reads *and decodes*, as the bare consumer and the worker do
            seen["n"] += len(events)
            if seen["n"] >= expected:
                elapsed = time.perf_counter() - seen["t0"]
                result.write_text(json.dumps({"events": seen["n"], "eps": seen["n"] / elapsed}))
                os._exit(0)  # faust's orderly shutdown takes seconds and adds nothing to the figure

    sys.argv = [sys.argv[0], "worker", "--loglevel", "warn"]
    app.main()


if __name__ == "__main__":
    main()

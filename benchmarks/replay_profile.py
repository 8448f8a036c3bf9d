"""Where replay spends its time: cProfile of the core over the simulated year now, beside the profiles
kept from before the pipeline's redesign (e4c51c9) and before the replay work of 2026-12-01."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from benchmarks.replay_speed import KEY
from streams.core.config import MonitorConfig
from streams.core.monitor import Monitor
from streams.core.pseudonym import Pseudonymiser
from streams.simulators.simulation import Scenario, generate

BEFORE = Path(__file__).with_name("profile-before-e4c51c9.txt")
BEFORE_HOT_PATH = Path(__file__).with_name("profile-before-58ec202.txt")


def profile_replay(events: int) -> str:
    """cProfile of replay over the first `events` lines of the simulated year; the top 15 by own time."""
    import cProfile
    import io
    import pstats

    scenario = Scenario(seed=101, days=365, units=10, care_persons=400)
    lines = [line.encode() for _, line in generate(scenario)][:events]
    monitor = Monitor(MonitorConfig(), Pseudonymiser(KEY))
    now = dt.datetime.now(dt.UTC)
    profiler = cProfile.Profile()
    profiler.enable()
    for line in lines:
        monitor.process(line, now)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime").print_stats(15)
    text = out.getvalue()
    return text[text.index("ncalls"):] if "ncalls" in text else text

"""What /health says, derived from what the worker observed, never from a guess about time.

A partition of an agent is **failing** when its last `FAILING_AFTER` attempts at its records failed in a
row (an exception escaped the batch: faust restarts the agent and the records are tried again; the
catch-up tries them again too) with its position unmoved since. It is **stalled** when, at every
observation over the last `after_s` seconds (the progress timer observes every few seconds), its
position stood at the same offset and the broker's end offset was beyond it: records that were
waiting `after_s` seconds ago are still not processed. Either makes the worker *degraded* (503), naming
the stage and the partition, until the position moves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FAILING_AFTER = 2

Key = tuple[str, int]  # (stage, partition)


@dataclass(frozen=True)
class Problem:
    stage: str
    topic: str
    partition: int
    why: str

    def as_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "topic": self.topic, "partition": self.partition, "why": self.why}


class StallWatch:
    """Per (stage, partition), since which observation its position has stood still with records waiting."""

    def __init__(self, after_s: float) -> None:
        self.after_s = after_s
        self._seen: dict[Key, tuple[int, int, float | None]] = {}  # position, end, waiting since
        self._now: float | None = None

    def observe(self, offsets: Mapping[Key, tuple[int, int]], now: float) -> None:
        """One observation: (position, broker end) of every partition assigned now; the others are
        forgotten (taken away by a rebalance: another worker watches them)."""
        seen: dict[Key, tuple[int, int, float | None]] = {}
        for key, (position, end) in offsets.items():
            before = self._seen.get(key)
            since: float | None
            if end <= position:
                since = None  # nothing waiting
            elif before is not None and before[0] == position and before[2] is not None:
                since = before[2]  # still at the same offset, records waiting throughout
            else:
                since = now
            seen[key] = (position, end, since)
        self._seen, self._now = seen, now

    def stalled(self) -> dict[Key, tuple[int, int, float]]:
        """(position, end, seconds observed standing) of each partition stalled at the last observation."""
        now = self._now
        if now is None:
            return {}
        return {key: (position, end, now - since) for key, (position, end, since) in self._seen.items()
                if since is not None and now - since >= self.after_s}


def problems(stages: Mapping[str, Any], assigned: Mapping[str, list[int]], watch: StallWatch) -> list[Problem]:
    """The failing and stalled partitions of the agents (`StageAgent`s by name), assigned ones only."""
    found: dict[Key, Problem] = {}
    for name, stage in stages.items():
        for p in assigned.get(name, ()):
            progress = stage.stats.partitions.get(p)
            if progress is not None and progress.failures >= FAILING_AFTER:
                found[(name, p)] = Problem(
                    name, stage.topic, p, f"failing: the last {progress.failures} attempts at its records failed "
                    f"({progress.failure}); its position stays at {_offset(progress.failed_at)}")
    for (name, p), (position, end, standing) in sorted(watch.stalled().items()):
        if (name, p) not in found and name in stages and p in assigned.get(name, ()):
            found[(name, p)] = Problem(
                name, stages[name].topic, p, f"stalled: its position has stood at {position} for {standing:.0f} s "
                f"of observation with records waiting (the broker's end is {end})")
    return [found[k] for k in sorted(found)]


def _offset(position: int | None) -> str:
    return "its first offset" if position is None else str(position)

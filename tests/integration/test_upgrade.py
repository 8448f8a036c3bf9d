"""An upgrade in place, as an operator does it: a worker of the previous release drains part of a stream
and is stopped; this release starts in its place, restores the tables from the changelogs the previous
release wrote, and takes the rest of the stream. The flags and unit indicators are those of `replay`."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.integration.conftest import halves, indicators_from_states, replay_flags, replay_indicators, replayed
from tests.integration.live import (
    ROOT,
    Namespace,
    Worker,
    changelog_states,
    final_flags,
    publish_file,
    wait_drained,
)

pytestmark = pytest.mark.integration

#: The last commit whose worker wrote table values with the json module and unit states of version 1
#: (this release: msgspec, unit state version 2, which reads version 1).
PREVIOUS_RELEASE = "4678f2d"


class PreviousWorker(Worker):
    """The worker of `source` (the previous release's `streams` package), in this environment."""

    def __init__(self, ns: Namespace, workdir: Path, source: Path) -> None:
        super().__init__(ns, workdir, "previous", PYTHONPATH=str(source))
        self.source = source

    def command(self) -> tuple[list[str], Path]:
        return [sys.executable, "-c", "import sys; from streams.cli import main; sys.exit(main())",
                "--log-level", "INFO", "worker"], self.source


def previous_release(into: Path) -> Path:
    into.mkdir(parents=True)
    git = ["git", "-C", str(ROOT)]
    shallow = subprocess.run([*git, "rev-parse", "--is-shallow-repository"], check=True, text=True,
                             stdout=subprocess.PIPE).stdout.strip()
    if shallow == "true":  # a CI's shallow clone: the previous release's commit is fetched, not skipped
        subprocess.run([*git, "fetch", "--quiet", "--unshallow"], check=True)
    archive = into / "previous.tar"
    subprocess.run([*git, "archive", "--output", str(archive), PREVIOUS_RELEASE, "streams"], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into


def unit_state_versions(ns: Namespace) -> set[object]:
    return {state.get("version") for state in changelog_states(ns, "units").values()}


def test_this_release_takes_over_the_tables_of_the_previous_one_and_gives_the_flags_of_replay(
    ns: Namespace, workers: list[Worker], tmp_path: Path, small_stream: Path
) -> None:
    first, second = halves(small_stream, tmp_path)
    previous = PreviousWorker(ns, tmp_path, previous_release(tmp_path / "previous")).start()
    workers.append(previous)
    previous.wait_ready(180)
    publish_file(ns, first)
    wait_drained(ns, [previous])
    assert unit_state_versions(ns) == {1}  # the previous release ran, and wrote its own format
    previous.stop()

    current = Worker(ns, tmp_path, "current").start()
    workers.append(current)
    current.wait_ready(180)
    publish_file(ns, second)
    wait_drained(ns, [current])

    reference = replayed(small_stream)
    live, replay = final_flags(ns), replay_flags(reference)
    straddling = {k for k, flag in live.items() if _began_before_dated_evidence(flag)}
    assert straddling <= set(replay)
    # A sick-leave occasion the previous release began kept its first and latest event ids only, without
    # days: its flag lists what this release saw (docs/limitations.md). Everything else of it, and every
    # other flag, is replay's exactly.
    assert _without_event_lists(live, straddling) == _without_event_lists(replay, straddling)
    assert {k: v for k, v in live.items() if k not in straddling} == \
        {k: v for k, v in replay.items() if k not in straddling}
    assert indicators_from_states(changelog_states(ns, "units")) == replay_indicators(reference)
    assert 2 in unit_state_versions(ns)  # units written again by this release, in its format


def _began_before_dated_evidence(flag: dict[str, object]) -> bool:
    evidence = flag["evidence"]
    assert isinstance(evidence, dict)
    listed = len(evidence.get("event_ids") or [])
    return evidence.get("kind") == "sick_leave" and (
        not evidence.get("dated_events") or listed < int(evidence.get("occasion_days") or 0))


def _without_event_lists(flags: dict[str, dict[str, object]], ids: set[str]) -> dict[str, dict[str, object]]:
    out = {}
    for k in ids:
        flag = {key: v for key, v in flags[k].items() if key not in ("revised_because", "changed", "version")}
        evidence = {key: v for key, v in flag["evidence"].items()  # type: ignore[union-attr]
                    if key not in ("event_ids", "dated_events")}
        out[k] = {**flag, "evidence": evidence}
    return out

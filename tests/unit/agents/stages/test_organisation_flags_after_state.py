"""The organisation stage writes a batch's flags into its groups' states before it sends them
(agents/stages/organisation.py): a flag it raised on part of a week must be known to the state a restart
resumes from, or nothing would ever withdraw it. The chaos backfill caught a worker killed between a flag
sent and the state that knew it (BENCHMARKS.md, "The ingest paced by the person stage")."""

from __future__ import annotations

import asyncio
import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest

from streams.agents.runtime.codec import loads_dict
from streams.agents.runtime.parted_state import PartedCache
from streams.agents.stages.organisation import Organisation
from streams.core.config import DriftConfig, MonitorConfig
from streams.core.org.parts import OrgParts
from streams.core.org.state import OrgState
from streams.core.unit.summary import DaySummary
from streams.models.flags import Flag
from streams.simulators.simulation import Scenario, generate
from tests.unit.agents.stages.test_organisation_upgrade import _Recorded
from tests.unit.core.org.test_detectors_and_old_states import NOW, monitor


@pytest.fixture(scope="module")
def history() -> tuple[MonitorConfig, list[list[DaySummary]]]:
    """Batches of day summaries as a replay gave them to its organisation stage: a workplace whose sick
    leave triples from day 120 (a drift flag)."""
    config = MonitorConfig(drift=DriftConfig(warmup_weeks=4, detector="page_hinkley",
                                             history_start=dt.date(2024, 1, 1)))
    recorded = _Recorded(config)
    m = monitor(config)
    m.org_drift = recorded
    scenario = Scenario(seed=11, days=240, units=5, care_persons=80, drift_unit=1, drift_onset_day=120,
                        drift_factor=3.0)
    for _, line in generate(scenario):
        m.process(line, NOW)
    return config, recorded.calls


class Broker:
    """What the stage sends and writes, and a refusal on demand."""

    def __init__(self) -> None:
        self.sent: list[Flag] = []
        self.refuse_flush = self.refuse_send = False

    async def flush(self) -> None:
        if self.refuse_flush:
            raise ConnectionError("the broker did not acknowledge the state")

    async def send_outputs(self, out: Any) -> list[Any]:
        if self.refuse_send:
            raise ConnectionError("the broker refused the flags")
        self.sent += out.flags
        return []


def stage_over(table: dict[bytes, bytes], config: MonitorConfig, broker: Broker) -> Organisation:
    cache = PartedCache(table, OrgParts(), lambda raw: OrgState.from_dict(loads_dict(raw)), lambda _: OrgState(),
                        partitions=8)
    p: Any = SimpleNamespace(config=config, org_to_publish={}, org_cache=cache, flush=broker.flush,
                             send_outputs=broker.send_outputs,
                             metrics=SimpleNamespace(drift_late=SimpleNamespace(set=lambda _: None)))
    return Organisation(p)


def run(stage: Organisation, summaries: list[DaySummary]) -> list[Flag]:
    """One batch as the agent runs it (`stage_agent.py`): close, send, write, the states persisted, done."""
    batch = stage.begin()
    batch.summaries = summaries
    stage.close(batch)
    asyncio.run(stage.send(batch))
    stage.write(batch)
    stage.p.org_cache.persist()
    stage.done(batch)
    return batch.out.flags


def first_batch_with_flags(config: MonitorConfig, calls: list[list[DaySummary]]) -> int:
    stage = stage_over({}, config, Broker())
    return next(i for i, summaries in enumerate(calls) if run(stage, summaries))


def up_to(i: int, config: MonitorConfig, calls: list[list[DaySummary]],
          broker: Broker) -> tuple[dict[bytes, bytes], Organisation]:
    """A stage that ran the batches before the `i`-th (over an empty table)."""
    table: dict[bytes, bytes] = {}
    stage = stage_over(table, config, broker)
    for summaries in calls[:i]:
        run(stage, summaries)
    return table, stage


def stored(table: dict[bytes, bytes], key: str = "org") -> OrgState:
    cache = PartedCache(table, OrgParts(), lambda raw: OrgState.from_dict(loads_dict(raw)), lambda _: OrgState(),
                        partitions=8)
    return cache.take(key)


def test_no_flag_leaves_before_the_state_that_knows_it_is_acknowledged(history: Any) -> None:
    config, calls = history
    i = first_batch_with_flags(config, calls)
    broker = Broker()
    table, stage = up_to(i, config, calls, broker)
    sent_before = list(broker.sent)
    broker.refuse_flush = True
    batch = stage.begin()
    batch.summaries = calls[i]
    stage.close(batch)
    assert batch.out.flags
    with pytest.raises(ConnectionError):
        asyncio.run(stage.send(batch))
    assert broker.sent == sent_before  # the state was not acknowledged: the flags stay


def test_flags_not_known_to_be_sent_go_again_from_the_state_a_restart_reads_and_first(history: Any) -> None:
    config, calls = history
    i = first_batch_with_flags(config, calls)
    broker = Broker()
    table, stage = up_to(i, config, calls, broker)
    broker.refuse_send = True  # written and acknowledged, then the flags are not (the worker dies)
    batch = stage.begin()
    batch.summaries = calls[i]
    stage.close(batch)
    raised = list(batch.out.flags)
    with pytest.raises(ConnectionError):
        asyncio.run(stage.send(batch))
    assert not [f for f in broker.sent if f in raised]
    assert stored(table).unsent == raised  # the state in the table knows them

    again = Broker()
    restarted = stage_over(table, config, again)
    flags = run(restarted, calls[i + 1])
    assert flags[:len(raised)] == raised  # sent again, before the batch's own
    assert again.sent == flags


def test_once_sent_the_flags_leave_the_state_with_its_next_write(history: Any) -> None:
    config, calls = history
    i = first_batch_with_flags(config, calls)
    broker = Broker()
    table, stage = up_to(i, config, calls, broker)
    raised = run(stage, calls[i])
    assert raised and broker.sent[-len(raised):] == raised
    assert stored(table).unsent == raised  # until the group is written again: a restart now sends them once more
    following = run(stage, calls[i + 1])
    assert following == [f for f in following if f not in raised]  # not sent twice
    assert stored(table).unsent == following  # only what the last batch sent, if anything

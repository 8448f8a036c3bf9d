"""An upgrade in place of the organisation stage: the previous release kept one state, under the key
"org", for every unit. This release keys the stage by peer group and reads that state, unchanged, as the
default group's (no event of that release's streams named an organisation, or it was not used): the stage
carries on from it to the flags and the state `replay` gets from the same stored states."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from types import SimpleNamespace
from typing import Any

from streams.agents.runtime.codec import loads_dict
from streams.agents.runtime.parted_state import PartedCache, parted_header
from streams.agents.stages.organisation import Organisation
from streams.core.config import DriftConfig, MonitorConfig
from streams.core.org.drift import OrgDrift
from streams.core.org.parts import OrgParts
from streams.core.org.state import OrgState
from streams.core.unit.summary import DaySummary
from streams.models.flags import Flag
from tests.unit.core.org.test_detectors_and_old_states import resumed_from_v3


class _Recorded(OrgDrift):
    """The organisation stage of a replay, recording what it is given (a batch of the live stage each)."""

    def __init__(self, config: MonitorConfig) -> None:
        super().__init__(config)
        self.calls: list[list[DaySummary]] = []
        self.flags: list[Flag] = []

    def apply(self, state: OrgState, summaries: list[DaySummary]) -> list[Flag]:
        self.calls.append(list(summaries))
        flags = super().apply(state, summaries)
        self.flags += flags
        return flags


def test_the_stage_reads_the_previous_releases_one_state_as_the_default_groups_and_goes_on_as_replay() -> None:
    recorded = _Recorded(MonitorConfig(drift=DriftConfig(warmup_weeks=4, detector="page_hinkley",
                                                         history_start=dt.date(2024, 1, 1))))
    m, config, _, states = resumed_from_v3(recorded)
    assert m.org_drift is recorded and recorded.calls
    replayed = recorded.flags

    # The live stage over a table as the previous release left it: one state, under "org".
    table: dict[bytes, bytes] = {b"org": json.dumps(states["org"]).encode()}
    gauge: list[float] = []
    async def nothing(*_: Any) -> list[Any]:
        return []

    p: Any = SimpleNamespace(config=config, org_to_publish={}, flush=nothing, send_outputs=nothing,
                             org_cache=PartedCache(table, OrgParts(), lambda raw: OrgState.from_dict(loads_dict(raw)),
                                                   lambda _: OrgState(), partitions=8),
                             metrics=SimpleNamespace(drift_late=SimpleNamespace(set=gauge.append)))
    stage = Organisation(p)
    live: list[Flag] = []
    for summaries in recorded.calls:
        batch = stage.begin()
        batch.summaries = summaries
        stage.close(batch)
        asyncio.run(stage.send(batch))  # the states written, then the flags sent
        stage.write(batch)
        stage.done(batch)
        live += batch.out.flags
    assert [f.model_dump_json() for f in live] == [f.model_dump_json() for f in replayed]
    # Written back where it was, the default group's key (its parts with it), and as replay's.
    assert parted_header(table[b"org"]) is not None and all(k.startswith(b"org\x1f") for k in set(table) - {b"org"})
    restarted = PartedCache(table, OrgParts(), lambda raw: OrgState.from_dict(loads_dict(raw)), lambda _: OrgState(),
                            partitions=8)
    assert restarted.take("org").to_dict() == m.org.to_dict()
    assert m.org.evaluated_week > OrgState.from_dict(states["org"]).evaluated_week  # weeks went on
    assert set(p.org_to_publish) == {"org"}

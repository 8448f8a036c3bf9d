"""The door's lead over the person stage (`lead.py`): it reads on while the stage keeps up, waits while the
stage has more than the limit still to take, and never waits forever on a stage that stopped."""

from __future__ import annotations

import asyncio

from streams.agents.runtime.lead import Lead


class Partitions:
    """What the producers wrote (the last offset) and where the stage stands, per partition."""

    def __init__(self, owned: list[int]) -> None:
        self.owned = owned
        self.written: dict[int, int] = {}
        self.position: dict[int, int] = {}

    def lead(self, limit: int, patience_s: float = 5.0) -> Lead:
        return Lead(limit, self.written.get, self.position.get, lambda: self.owned, patience_s)


def test_the_lead_counts_what_was_written_beyond_the_stage_on_the_partitions_owned_here() -> None:
    parts = Partitions(owned=[0, 1])
    lead = parts.lead(limit=4)
    assert lead.ahead() == 0  # nothing written
    parts.written.update({0: 9, 1: 4, 2: 99})  # 2 belongs to another worker: not counted
    assert lead.ahead() == 0  # the stage has taken nothing yet here: where it stands is not known
    parts.position.update({0: 7, 1: 5, 2: 0})
    assert lead.ahead() == 3  # offsets 7, 8 and 9 of partition 0; partition 1 is taken up to its end
    parts.position[0] = 20  # taken beyond what this worker wrote (others write there too)
    assert lead.ahead() == 0


def test_the_door_waits_while_the_stage_is_behind_and_goes_on_as_it_takes_its_batches() -> None:
    parts = Partitions(owned=[0])
    parts.written[0], parts.position[0] = 9, 0  # ten messages to take
    lead = parts.lead(limit=4)
    log: list[str] = []

    async def door() -> None:
        await lead.paced()
        log.append(f"read on at {parts.position[0]}")

    async def stage() -> None:
        for position in (3, 5, 6):
            await asyncio.sleep(0.01)
            parts.position[0] = position
            log.append(f"took up to {position}")
            lead.progressed()

    async def both() -> None:
        await asyncio.gather(door(), stage())

    asyncio.run(both())
    # 10 - 3 = 7 and 10 - 5 = 5 are over the limit of 4; at 6, four are left
    assert log == ["took up to 3", "took up to 5", "took up to 6", "read on at 6"]
    assert lead.waits == 1


def test_a_door_within_its_lead_does_not_wait() -> None:
    parts = Partitions(owned=[0])
    parts.written[0], parts.position[0] = 9, 6
    lead = parts.lead(limit=4)
    asyncio.run(lead.paced())
    assert lead.waits == 0


def test_a_stage_that_stopped_holds_the_door_up_for_its_patience_only() -> None:
    """Not ready, or in a rebalance: the door reads on as it would without the bound (nothing is skipped)."""
    parts = Partitions(owned=[0])
    parts.written[0], parts.position[0] = 99, 0
    lead = parts.lead(limit=4, patience_s=0.05)

    async def door() -> bool:
        await asyncio.wait_for(lead.paced(), timeout=5)
        return True

    assert asyncio.run(door())
    assert lead.waits == 1

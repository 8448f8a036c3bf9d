"""A timer's work runs in a task of its own, never two at once: a write of held states or a catch-up that
outlasts the timer's interval is not started again beside itself."""

from __future__ import annotations

import asyncio

from streams.agents.runtime.timer_task import TimerTask


def test_a_tick_while_the_work_runs_starts_none_and_the_next_one_after_it_does() -> None:
    async def scenario() -> list[int]:
        started: list[int] = []
        release = asyncio.Event()

        async def work() -> None:
            started.append(len(started))
            await release.wait()

        task = TimerTask()
        task.start(work)
        await asyncio.sleep(0)
        assert task.running
        task.start(work)  # a tick while the first is still waiting for the broker
        await asyncio.sleep(0)
        release.set()
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert not task.running
        task.start(work)  # the next tick, once it is done
        await asyncio.sleep(0)
        return started

    assert asyncio.run(scenario()) == [0, 1]


def test_work_that_failed_does_not_stop_the_next_tick() -> None:
    async def scenario() -> int:
        calls = 0

        async def failing() -> None:
            nonlocal calls
            calls += 1
            raise RuntimeError("broker gone")

        task = TimerTask()
        task.start(failing)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        task.start(failing)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return calls

    assert asyncio.run(scenario()) == 2

"""A worker with a defect on one event, for the tests that show a defect in one item goes to the
dead-letter topic and the rest flows. The defect is put in from here, in the worker's own process:
`python -m tests.integration.faults EVENT_ID ARGS...` runs the worker's command line with the persons
stage raising on that event id. Nothing of it is in the product."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from streams.agents.runtime.messages import PersonEnvelope
from streams.agents.stages.persons import Persons
from tests.integration.live import Namespace, Worker


class InjectedFault(RuntimeError):
    """The defect: raised by the persons stage for one event id."""


def fail_on(event_id: str) -> None:
    """Make the persons stage raise on `event_id`, as a defect in its code would."""
    apply = Persons.apply

    def faulty(self: Persons, batch: Any, item: Any) -> None:
        if isinstance(item.value, PersonEnvelope) and json.loads(item.value.event_json())["event_id"] == event_id:
            item.event_id = event_id
            raise InjectedFault("fault injected for a test")
        apply(self, batch, item)

    Persons.apply = faulty  # type: ignore[method-assign]


class FaultyWorker(Worker):
    """The worker, raising in its persons stage on `event_id`."""

    def __init__(self, ns: Namespace, workdir: Path, event_id: str, label: str = "w1") -> None:
        super().__init__(ns, workdir, label)
        self.event_id = event_id

    def command(self) -> tuple[list[str], Path]:
        argv, cwd = super().command()
        return [sys.executable, "-m", "tests.integration.faults", self.event_id, *argv[1:]], cwd


if __name__ == "__main__":
    from streams.cli import main

    fail_on(sys.argv[1])
    sys.exit(main(sys.argv[2:]))

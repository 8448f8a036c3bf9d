"""The door's person input travels with the event: the ingest stage sends the person stage the fact and
organisation the door made (`core.stages.PersonInput`), so that stage neither validates nor converts the
event again. What the person stage does with it must be exactly what it does with the event alone (the
previous release's message, which an upgrade in place can leave on the topic): the same flags, unit
updates, rejections, dead-letter originals and stored states, event by event."""

from __future__ import annotations

import datetime as dt
import json
import random
from types import SimpleNamespace
from typing import Any

from prometheus_client import CollectorRegistry

from streams.agents.runtime.codec import loads_dict
from streams.agents.runtime.messages import PersonEnvelope, PersonEventBatch, read_internal
from streams.agents.runtime.records import InputRecord
from streams.agents.runtime.stage_work import Item
from streams.agents.runtime.state_cache import StateCache
from streams.agents.stages.ingest import Ingest
from streams.agents.stages.persons import Persons
from streams.core.config import MonitorConfig
from streams.core.person.facts import fact_of
from streams.core.person.tracker import PersonState
from streams.models.events import EVENT_ADAPTER
from streams.models.vocab import EventKind
from streams.observe.metrics import Metrics
from streams.simulators.simulation import Scenario, generate
from tests.helpers import KEY, event

CONFIG = MonitorConfig()


def _context(table: dict[bytes, bytes]) -> Any:
    cache: StateCache[PersonState] = StateCache(table, lambda raw: PersonState.from_dict(loads_dict(raw)),
                                                lambda _: PersonState())
    return SimpleNamespace(config=CONFIG, metrics=Metrics(CollectorRegistry()), person_cache=cache, vault=None,
                           settings=SimpleNamespace(pseudonym_key_bytes=lambda: KEY), partitions=1,
                           programme_stage=SimpleNamespace(enabled=False),
                           names=SimpleNamespace(person_events="person-events", unit_updates="unit-updates",
                                                 programme_events="programme-events", consent="consent"))


def _envelopes(lines: list[str]) -> list[PersonEnvelope]:
    """What the ingest stage sends on person-events for `lines`, each arriving on its own event's day."""
    ingest = Ingest(_context({}))
    batch = ingest.begin()
    for offset, line in enumerate(lines):
        record = InputRecord("care.events", 0, offset, _arrival_ms(line), (), line.encode())
        for item in ingest.items(record):  # type: ignore[union-attr]
            ingest.apply(batch, item)
    assert batch.out.rejections == []
    envelopes: list[PersonEnvelope] = []
    for _, body in batch.out.outbox("person-events", "events", 1).messages():
        read = read_internal(PersonEventBatch, InputRecord("person-events", 0, 0, 0, (), body))
        assert isinstance(read, PersonEventBatch)
        envelopes += read.events
    return envelopes


def _arrival_ms(line: str) -> int:
    import datetime as dt

    return int(dt.datetime.fromisoformat(json.loads(line)["occurred_at"]).timestamp() * 1000) + 3_600_000


def _as_previous_release(env: PersonEnvelope) -> PersonEnvelope:
    return PersonEnvelope(env.pseudonym, env.arrival, env.source_offset, env.event, env.ingested_at)


def _through_persons(envelopes: list[PersonEnvelope], cuts: random.Random) -> tuple[list[Any], dict[bytes, bytes]]:
    """The envelopes through the persons stage in batches cut at random (the same cuts for both forms),
    each batch's states written; everything the stage sent, in order, and the table at the end."""
    table: dict[bytes, bytes] = {}
    stage = Persons(_context(table))
    sent: list[Any] = []
    k = 0
    while k < len(envelopes):
        chunk = envelopes[k:k + cuts.randint(1, 40)]
        batch = stage.begin()
        batch.counts = _Recorded(sent)  # type: ignore[assignment]  # what the step counts, in order
        for i, env in enumerate(chunk):
            item = Item(InputRecord("person-events", 0, k + i, 0, (), b""), env, raw=env.event_json())
            stage.apply(batch, item)
            sent.append(item.event_id)
        stage.write(batch)
        out = batch.out
        sent += [f.model_dump_json() for f in out.flags]
        sent += [(r.model_dump_json(), original) for r, original in out.rejections]
        sent += [(name, dict(box.messages())) for name, box in sorted(out.outboxes.items())]
        sent += out.keyed
        k += len(chunk)
    return sent, table


class _Recorded:
    """The stage's `Counts`, each call recorded (the worker's metrics: events consumed and their age by
    kind, rejections, duplicates, retractions)."""

    def __init__(self, calls: list[Any]) -> None:
        self.calls = calls

    def accepted(self, event_type: str, occurred: int, arrival: int) -> None:
        self.calls.append(("accepted", type(event_type), str(event_type), occurred, arrival))

    def rejected(self, reason: str) -> None:
        self.calls.append(("rejected", reason))

    def duplicate(self) -> None:
        self.calls.append(("duplicate",))

    def resent(self) -> None:
        self.calls.append(("resent",))

    def retraction(self, outcome: str) -> None:
        self.calls.append(("retraction", outcome))


def _histories() -> list[list[str]]:
    simulated = [line for _, line in generate(Scenario(seed=7, days=120, units=3, care_persons=40))]
    rng = random.Random(11)
    late = list(simulated)
    for i in range(0, len(late) - 30, 17):  # some events a few positions late, some too late, some sent again
        late[i], late[i + rng.randint(1, 30)] = late[i + rng.randint(1, 30)], late[i]
    late += [simulated[i] for i in range(0, len(simulated), 53)]  # duplicates
    late.append(event("sick_leave", 1, person_id="emp-0001", event_id="long-ago", extent=0.5))  # too late
    late.append(event("enrollment", 60, person_id="emp-0001", program="health-support", event_id="join-1",
                      organisation="212000-0142"))
    return [simulated, late, _around_midnight_and_the_clock_change()]


def _around_midnight_and_the_clock_change() -> list[str]:
    """Sick leave and care late in the evening (UTC), the local day already the next, over the switch to
    summer time (2025-03-30 01:00 UTC) and back (2025-10-26 01:00 UTC): a fact's day is the local one."""
    lines = []
    for start in (dt.datetime(2025, 3, 24, 23, 30, tzinfo=dt.UTC), dt.datetime(2025, 10, 20, 22, 30, tzinfo=dt.UTC)):
        for i in range(14):
            t = start + dt.timedelta(days=i, minutes=(i % 3) * 20)
            for person, kind, extra in (("emp-night", "sick_leave", {"extent": 1.0}),
                                        ("pat-night", "home_care_contact", {"minutes": 30, "planned": i % 2 == 0}),
                                        ("pat-ed", "emergency_visit", {})):
                if person == "emp-night" and i % 5 == 4:
                    continue  # occasions, not one long spell
                lines.append(json.dumps({"event_id": f"{person}-{start.month}-{i}", "event_type": kind,
                                         "occurred_at": t.isoformat(), "unit_id": "unit-night",
                                         "person_id": person, **extra}))
    return lines


def test_the_door_s_fact_is_the_one_the_person_stage_made_from_the_event() -> None:
    for lines in _histories():
        envelopes = _envelopes(lines)
        assert envelopes and all(env.fact is not None for env in envelopes)
        for env in envelopes:
            validated = EVENT_ADAPTER.validate_json(env.event_json())
            assert env.fact == fact_of(validated, CONFIG.timezone)  # type: ignore[arg-type]
            assert env.organisation == validated.organisation


def test_the_person_stage_does_with_the_door_s_input_what_it_does_with_the_event_alone() -> None:
    for seed, lines in enumerate(_histories()):
        envelopes = _envelopes(lines)
        with_input = _through_persons(envelopes, random.Random(seed))
        event_alone = _through_persons([_as_previous_release(e) for e in envelopes], random.Random(seed))
        assert with_input == event_alone
        sent, table = with_input
        # the histories reach what the comparison is about: flags, rejections with their originals, states
        assert any(isinstance(s, str) and '"rule"' in s for s in sent)
        rejected = [s for s in sent if isinstance(s, tuple) and len(s) == 2 and isinstance(s[1], bytes)]
        assert rejected or seed != 1  # the history with late, too late and repeated events
        # each accepted event counted with its kind and when it occurred (each arrives an hour after it):
        # the worker's events consumed, their age and lateness by kind
        accepted = [c for c in sent if isinstance(c, tuple) and c[0] == "accepted"]
        assert accepted and all(kind is EventKind and occurred == arrival - 3600
                                for _, kind, _, occurred, arrival in accepted)
        assert table


"""What the worker's agents share: topics, tables, decoded-state caches and the ways to send.

    care.events ──ingest──▶ person-events ──persons──▶ unit-updates ──units──▶ day-summaries ──org──▶
    outcome.flags ──flag store          (rejections ──▶ care.events.rejected)
    person-events ──persons──▶ programme-events ──programmes──▶ outcome.programme-figures (with programmes)

Internal topics carry *batches*: one message per destination partition per batch of the sending agent
(`Outbox`), because a worker spends its time in per-message machinery, not in the monitor's own work.
A batch goes to the partition its keys hash to (Kafka's default partitioner), the one whose table
entries the receiving agent owns.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import faust

from streams.agents.runtime.broker_reader import BrokerReader, started_consumer
from streams.agents.runtime.bulk_input import FETCH_BYTES, BulkInput
from streams.agents.runtime.codec import loads_dict
from streams.agents.runtime.dead_letters import DeadLetters
from streams.agents.runtime.heap_trim import HeapTrim, malloc_trim
from streams.agents.runtime.output_producers import OutputProducers
from streams.agents.runtime.outputs import Outputs
from streams.agents.runtime.parted_state import PartedCache
from streams.agents.runtime.positions import Positions
from streams.agents.runtime.stage_agent import CATCH_UP_S, IDLE_WRITE_S, StageAgent
from streams.agents.runtime.state_cache import StateCache
from streams.agents.runtime.timer_task import TimerTask
from streams.core.config import MonitorConfig
from streams.core.disclosure import UnitLabels
from streams.core.identity_vault import IdentityVault
from streams.core.org.parts import OrgParts
from streams.core.org.state import OrgState
from streams.core.person.tracker import PersonState
from streams.core.programme.ledger import PersonLedger
from streams.core.programme.stage import ProgrammeStage
from streams.core.programme.surveys import SurveyStore
from streams.core.unit.tracker import UnitState
from streams.models.events import EVENT_FIELDS
from streams.models.flags import FlagStatus
from streams.models.rejections import Rejection, rejected_field
from streams.observe.metrics import Metrics
from streams.settings import Settings

log = logging.getLogger(__name__)

#: Changelogs are compacted (faust's default), but Kafka compacts only closed segments (1 GiB by default):
#: unit and organisation states are rewritten every batch, so without small segments a restart would
#: replay hundreds of MB of old versions (seen in the soak: 0.9 GB after 30 minutes).
CHANGELOG_CONFIG = {"segment.bytes": str(16 * 1024 * 1024), "segment.ms": str(10 * 60 * 1000),
                    "min.cleanable.dirty.ratio": "0.1"}
#: Units are worked on in one place (one partition): the figures of an organisation then never depend on
#: how far one partition of units has got ahead of another (in a backfill that can be months of event
#: time), only on what the persons stage has sent. The organisations (peer groups, core/org/groups.py)
#: spread over the partitions of day-summaries: each is worked on whole in one of them.
UNIT_PARTITIONS = 1
#: Agents reading batch messages take up to this many at once (each holds up to an ingest batch's
#: events for one partition), or what has come within WITHIN_S seconds.
BATCH_MESSAGES = 16
WITHIN_S = 0.05


@dataclass(frozen=True)
class TopicNames:
    events: str
    rejected: str
    flags: str
    person_events: str
    unit_updates: str
    day_summaries: str
    flag_actions: str
    audit: str
    consent: str
    identities: str
    programme_events: str
    programme_figures: str

    @classmethod
    def of(cls, settings: Settings) -> TopicNames:
        t = settings.topics
        return cls(t.events, t.rejected, t.flags, f"{settings.app_id}.person-events",
                   f"{settings.app_id}.unit-updates", f"{settings.app_id}.day-summaries",
                   t.flag_actions or t.beside_flags("flag-actions"), t.audit or t.beside_flags("audit"),
                   t.consent or t.beside_flags("consent"), t.identities or t.beside_flags("identities"),
                   f"{settings.app_id}.programme-events",
                   t.programme_figures or t.beside_flags("programme-figures"))


@dataclass
class WorkerContext:
    """The worker's topics, tables and caches, and the sends every agent uses."""

    app: faust.App
    settings: Settings
    metrics: Metrics
    names: TopicNames
    vault: IdentityVault | None = None  # seals source person keys for a reveal (inbox.reveal_key_file)
    inbox: Any = None  # the flag-handling read model (agents/web/inbox_view.py), once registered
    topics: dict[str, faust.TopicT] = field(default_factory=dict)
    # Unit and organisation states changed since Prometheus last asked (figures are computed then).
    units_to_publish: dict[str, UnitState] = field(default_factory=dict)
    stages: dict[str, StageAgent[Any, Any]] = field(default_factory=dict)
    # free heap pages go back to the system after work (agents/runtime/heap_trim.py)
    heap_trim: HeapTrim = field(default_factory=lambda: HeapTrim(malloc_trim()))
    org_to_publish: dict[str, OrgState] = field(default_factory=dict)
    # Programme figures computed since Prometheus last asked (agents/stages/programmes.py), by programme.
    programmes_to_publish: dict[str, dict[str, Any]] = field(default_factory=dict)
    unit_labels: UnitLabels = field(init=False)
    # Partitions of day-summaries and of the organisation table: the input topics' count in a new
    # deployment, and what an existing day-summaries topic has (`organisation_partitions`).
    org_partitions: int | None = None
    # Topics read in bulk (`bulk_input.py`) and the topic whose assignment each follows.
    bulk_follows: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n, names, app = self.partitions, self.names, self.app
        if self.org_partitions is None:
            self.org_partitions = n
        org_n = self.org_partitions
        self.unit_labels = UnitLabels(self.config)
        for name, partitions in ((names.events, n), (names.rejected, n), (names.flags, n), (names.person_events, n),
                                 (names.unit_updates, UNIT_PARTITIONS), (names.day_summaries, org_n),
                                 (names.programme_events, 1)):
            self.topics[name] = app.topic(name, key_type=bytes, value_type=bytes, partitions=partitions,
                                          key_serializer="raw", value_serializer="raw")
        self.persons = self._table("persons", n)
        self.units = self._table("units", UNIT_PARTITIONS)
        self.org = self._table("org", org_n)
        self.flags = self._table("flags", n)
        # where each agent stands on each input partition (streams/agents/runtime/positions.py)
        self.positions = self._table("positions", n)
        self.org_positions = self._table("org-positions", 1)  # the units' (and the one organisation's, before)
        # programme ledgers, by pseudonym, in one partition: a programme's figures need every person
        self.programme_ledgers = self._table("programme-ledgers", 1)
        self.programme_positions = self._table("programme-positions", 1)
        self.dead_letters = DeadLetters(
            self.send, self.names.rejected, self.settings.dead_letter_original_bytes,
            on_lost=lambda reason: self.metrics.dead_letters_lost.labels(reason).inc())
        self.reader = BrokerReader(self.settings.bootstrap_servers, f"{self.settings.app_id}-reader",
                                   self.settings.kafka)
        # the stages' batch messages leave through producers of their own, one per internal topic
        self.output_producers = OutputProducers.like_faust(app.conf, self.settings.bootstrap_servers,
                                                           f"{self.settings.app_id}-outputs", self.settings.kafka)

        async def stop_output_producers(*_: Any, **__: Any) -> None:
            await self.output_producers.stop()

        app.on_before_shutdown.connect(stop_output_producers)
        self.person_cache: StateCache[PersonState] = StateCache(
            self.persons, lambda raw: PersonState.from_dict(loads_dict(raw)), lambda _: PersonState(),
            max_entries=self.settings.decoded_person_states)
        self.unit_cache: StateCache[UnitState] = StateCache(
            self.units, lambda raw: UnitState.from_dict(loads_dict(raw)), UnitState)
        # written as deltas: a batch writes the parts of a group's state it changed, not the whole state
        self.org_cache: StateCache[OrgState] = PartedCache(
            self.org, OrgParts(), lambda raw: OrgState.from_dict(loads_dict(raw)), lambda _: OrgState(),
            partitions=org_n)
        self.programme_stage = ProgrammeStage(self.config)
        self.programme_cache: StateCache[PersonLedger] = StateCache(
            self.programme_ledgers, lambda raw: PersonLedger.from_dict(loads_dict(raw)), self.programme_stage.fresh,
            max_entries=self.settings.decoded_person_states)
        # the survey answers, in the same table under a key no pseudonym has (core/programme/surveys.py)
        self.survey_cache: StateCache[SurveyStore] = StateCache(
            self.programme_ledgers, lambda raw: SurveyStore.from_dict(loads_dict(raw)), lambda _: SurveyStore())

    def _table(self, name: str, partitions: int) -> Any:
        # use_partitioner: the changelog partition follows the key, like the batches' partitions do,
        # so a batch can write states of several partitions at once.
        # key_type/value_type bytes make faust pick the raw codec for the changelog (it derives the
        # codec from the types, not from a schema), so recovery reads back exactly what was written.
        return self.app.Table(name, key_type=bytes, value_type=bytes, partitions=partitions,
                              use_partitioner=True, extra_topic_configs=CHANGELOG_CONFIG)

    def unit_state(self, unit_id: str) -> UnitState | None:
        """A unit's state on this worker: as its units stage holds it until written, else as its table
        holds it (None: not here, or not readable)."""
        held = self.unit_cache.held(unit_id)
        if held is not None:
            return held
        raw = self.units.get(unit_id.encode())
        if raw is None:
            return None
        try:
            return UnitState.from_dict(loads_dict(raw))
        except (ValueError, KeyError, TypeError):
            log.warning("the units table holds an unreadable state")
            return None

    @property
    def org_positions_table(self) -> Any:
        """Where the organisation stage keeps its positions: with the input topics' partition count, the
        positions table; with one partition (a deployment from before peer groups), where it kept them then."""
        return self.org_positions if self.org_partitions == 1 else self.positions

    @property
    def config(self) -> MonitorConfig:
        return self.settings.monitor

    @property
    def partitions(self) -> int:
        return self.settings.topics.partitions

    def topic(self, name: str) -> faust.TopicT:
        return self.topics[name]

    async def send(self, topic: str, key: str | None, value: bytes, partition: int | None = None) -> Any:
        """Hand one record (already bytes) to the producer; returns the future of its acknowledgement.
        faust's Producer.send, not Topic.send: the values are serialised already, and the channel's
        per-message machinery (serializer registry, callbacks) was a large share of a busy worker's time."""
        return await self.app.producer.send(topic, key.encode() if key is not None else None, value,
                                            partition=partition, timestamp=None, headers=None)

    async def on_revoked(self, *_: Any, **__: Any) -> None:
        """A rebalance takes partitions away: wait until no agent is inside a batch or a catch-up, and the
        positions of every batch processed are written."""
        for stage in self.stages.values():
            async with stage.lock:
                await stage.settle()

    def ready(self) -> bool:
        """Tables recovered and no rebalance under way: the states of the assigned partitions are here."""
        recovery = self.app.tables.recovery  # type: ignore[attr-defined]
        return bool(recovery.completed.is_set() and not self.app.rebalancing and not self.app.in_recovery)

    def assigned(self, topic: str) -> list[int]:
        """The partitions of `topic` this worker works on: those faust assigns it, or for a topic read in
        bulk, those faust assigns it of the topic it follows (`stage_agent`'s `follows`)."""
        topic = self.bulk_follows.get(topic, topic)
        return sorted(tp.partition for tp in self.app.consumer.assignment() if tp.topic == topic)

    def generation(self) -> int:
        """faust's consumer generation: it changes at every rebalance."""
        return int(self.app.consumer_generation_id)

    def stage_agent(self, name: str, topic: str, work: Any, batch: int, within: float, *,
                    positions: Any = None, partitions: int | None = None,
                    held: Sequence[StateCache[Any]] = (), follows: str | None = None) -> StageAgent[Any, Any]:
        """Register the faust agent that runs `work` over `topic`, and its catch-up timer. The states of
        the caches `held` are written once per `state_write_interval_s` (and its timer registered).
        With `follows`, `topic` is read in bulk (`bulk_input.py`) instead, on the partitions faust assigns
        this worker of the topic `follows` (which must have as many partitions)."""
        n = partitions if partitions is not None else self.partitions
        interval = self.settings.state_write_interval_s if held else 0.0
        stage = StageAgent(name=name, topic=topic, work=work, reader=self.reader,
                           positions=Positions(positions if positions is not None else self.positions, topic, n),
                           flush=self.flush, dead_letter=self.dead_letter, ready=self.ready, batch=batch,
                           caches=held, write_interval_s=interval)
        self.stages[name] = stage

        if interval > 0:
            write_task = TimerTask()

            async def write_held() -> None:
                try:
                    async with stage.lock:
                        await stage.write_held_if_due()
                except Exception:  # noqa: BLE001 - the records of the states held are read again
                    log.warning("%s: writing the held states failed; their records are read again from the "
                                "positions written", name, exc_info=True)

            @self.app.timer(interval=min(interval / 2, IDLE_WRITE_S), name=f"{name}-write-states")
            async def write_states() -> None:
                # A batch under way writes them itself once they are due; while the last write waits
                # for the broker's acknowledgements, the next tick writes them. A write of many states
                # awaits the broker between its slices, so it runs in a task of its own: the timer never
                # waits for the broker (mode warns when a timer outruns its interval).
                if not (stage.lock.locked() or stage.writing()):
                    write_task.start(write_held)

        if follows is not None:
            self.bulk_follows[topic] = follows
            settings, client_id = self.settings, f"{self.settings.app_id}-{name}-input"
            bulk = BulkInput(stage, lambda: started_consumer(settings.bootstrap_servers, client_id, settings.kafka,
                                                             FETCH_BYTES),
                             lambda: self.assigned(topic), self.ready, self.generation)

            @self.app.task
            async def read_in_bulk() -> None:
                await bulk.run()

            return stage

        @self.app.agent(self.topic(topic), name=name, concurrency=1)
        async def run(stream: Any) -> None:
            async for events in stream.take_events(batch, within=within):
                await stage.on_batch(events)

        catching_up = TimerTask()

        @self.app.timer(interval=CATCH_UP_S, name=f"{name}-catch-up")
        async def catch_up() -> None:
            # in a task of its own: a long catch-up must not hold up faust's timers
            catching_up.start(lambda: stage.catch_up(self.assigned(topic)))

        return stage

    async def send_outputs(self, out: Outputs) -> list[Any]:
        """Send a batch's outputs; returns the futures of the broker's acknowledgements. Its batch messages go
        through the producer of their topic (`output_producers.py`), the rest through faust's."""
        pending: list[Any] = []
        for (topic, _), outbox in out.outboxes.items():
            for partition, body in outbox.messages():
                pending.append(await self.output_producers.send(topic, body, partition))
        for flag in out.flags:
            pending.append(await self.send(self.names.flags, flag.flag_id, flag.model_dump_json().encode()))
            if flag.status is FlagStatus.WITHDRAWN:
                because = flag.withdrawn_because.value if flag.withdrawn_because is not None else "late_data"
                out.counts.append(self.metrics.flags_withdrawn.labels(flag.rule.value, because).inc)
            else:
                out.counts.append(self.metrics.flags_raised.labels(flag.rule.value).inc)
        for topic, key, value in out.keyed:
            pending.append(await self.send(topic, key, value))
        for rejection, original in out.rejections:
            # counted once the batch is through: a batch tried again sends its letters again, same keys
            out.counts.append(self.metrics.events_rejected.labels(rejection.reason.value,
                                                                  rejected_field(rejection, EVENT_FIELDS)).inc)
            pending.append(await self.dead_letters(rejection, original))
        out.handed_over()
        return pending

    async def dead_letter(self, rejection: Rejection, original: bytes | None, item: int | None = None) -> Any:
        """Send one rejection to the dead-letter topic (`dead_letters.py`) and count it; returns a future
        that completes once it is written or given up on, and never fails."""
        self.metrics.events_rejected.labels(rejection.reason.value, rejected_field(rejection, EVENT_FIELDS)).inc()
        return await self.dead_letters(rejection, original, item)

    async def flush(self) -> None:
        """Until every record this worker produced (outputs and table changelogs) is acknowledged."""
        # faust_fixes.MonitorApp's (a sibling of runtime, not imported here): fails once the broker refused a record
        await cast(Any, self.app).flush_stored()

"""The Faust worker: four thin agents around the pure core.

    care.events ──ingest──▶ person-events (by pseudonym) ──persons──▶ unit-updates (by unit) ──units──▶
    day-summaries (one key) ──org──▶ outcome.flags          (rejections ──▶ care.events.rejected)

Each agent takes a batch, calls the core with the states it reads from its table, sends the results,
waits for the broker to acknowledge them, and only then writes the new states. So a state that survived
a crash always has its outputs delivered; outputs of a batch whose states did not survive are sent again
and recognised downstream (event ids at the person stage, per-person sequence numbers at the unit stage,
absolute day values at the organisation stage, flag ids in the flag store).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

import faust
from prometheus_client import generate_latest

from streams.agents.codec import dumps, loads_dict
from streams.agents.diagnostics import consumer_snapshot
from streams.agents.offsets import MonitorApp
from streams.agents.state_cache import StateCache
from streams.agents.topics import TopicSpec
from streams.core.config import MonitorConfig
from streams.core.decode import decode_event
from streams.core.indicators import unit_indicators
from streams.core.org import OrgDrift, OrgState, relative_levels
from streams.core.person import Outcome, PersonState
from streams.core.pseudonym import Pseudonymiser
from streams.core.stages import PersonStage, UnitStage, UnitUpdate, staffing_update
from streams.core.timebase import epoch
from streams.core.unit import DaySummary, UnitState
from streams.metrics import Metrics
from streams.models.events import ARRIVAL_HEADER, EVENT_ADAPTER, Staffing
from streams.models.flags import Flag, FlagStatus
from streams.models.internal import DaySummaryMessage, DeadLetter, PersonEnvelope, UnitUpdateMessage
from streams.models.rejections import Rejection, RejectReason
from streams.settings import Settings

log = logging.getLogger(__name__)

BATCH = 500
WITHIN_S = 0.05
ORG_KEY = "org"
LATE_S = 86400


@dataclass(frozen=True)
class TopicNames:
    events: str
    rejected: str
    flags: str
    person_events: str
    unit_updates: str
    day_summaries: str


def topic_names(settings: Settings) -> TopicNames:
    t = settings.topics
    return TopicNames(t.events, t.rejected, t.flags, f"{settings.app_id}.person-events",
                      f"{settings.app_id}.unit-updates", f"{settings.app_id}.day-summaries")


def topic_specs(settings: Settings) -> list[TopicSpec]:
    names, n = topic_names(settings), settings.topics.partitions
    return [
        TopicSpec(names.events, n),
        TopicSpec(names.rejected, n),
        # Keyed by flag_id: the last record of an id is the flag's state, so compaction keeps it.
        TopicSpec(names.flags, n, {"cleanup.policy": "compact"}),
        TopicSpec(names.person_events, n),
        TopicSpec(names.unit_updates, n),
        TopicSpec(names.day_summaries, 1),
    ]


def arrival_of(message: Any) -> int:
    """The record's arrival time in event-time terms: the `om-arrival` header that `publish` sets for a
    replayed file, else the record timestamp (what any other client's record carries)."""
    headers = message.headers or ()
    items = headers.items() if isinstance(headers, dict) else headers
    for name, value in items:
        if name == ARRIVAL_HEADER and value:
            try:
                return int(value)
            except ValueError:
                break
    return int(message.timestamp)


def dead_letter(rejection: Rejection, original: bytes | None) -> bytes:
    text = b64 = None
    if original is not None:
        try:
            text = original.decode("utf-8")
        except UnicodeDecodeError:
            import base64

            b64 = base64.b64encode(original).decode("ascii")
    return DeadLetter(reason=rejection.reason.value, message=rejection.message,
                      source_offset=rejection.source_offset, event_id=rejection.event_id,
                      original_text=text, original_base64=b64).model_dump_json().encode()


def build_app(settings: Settings, metrics: Metrics) -> faust.App:
    config: MonitorConfig = settings.monitor
    names = topic_names(settings)
    n = settings.topics.partitions
    pseudonymise = Pseudonymiser(settings.pseudonym_key_bytes())
    person_stage, unit_stage, org_drift = PersonStage(config), UnitStage(config), OrgDrift(config)
    max_future = dt.timedelta(hours=config.max_future_hours)
    too_late_message = (f"occurred_at is more than {config.allowed_lateness_days:g} days "
                        "before the stream's clock")

    app = MonitorApp(
        settings.app_id,
        broker=f"kafka://{settings.bootstrap_servers}",
        store=settings.store,
        datadir=settings.data_dir,
        web_host=settings.web_host,
        web_port=settings.web_port,
        web_enabled=True,
        topic_partitions=n,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        stream_publish_on_commit=False,
        table_standby_replicas=0,
        # A killed worker's membership lapses after this; its replacement waits no longer than that.
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=max(1.0, settings.session_timeout_s / 4),
        key_serializer="raw",
        value_serializer="raw",
    )

    # Offsets of the compacted flags topic can have holes; those of every other topic are contiguous.
    app.compacted_topics = frozenset({names.flags})

    def topic(name: str, partitions: int) -> faust.TopicT:
        return app.topic(name, key_type=bytes, value_type=bytes, partitions=partitions,
                         key_serializer="raw", value_serializer="raw")

    events_t = topic(names.events, n)
    rejected_t = topic(names.rejected, n)
    flags_t = topic(names.flags, n)
    person_t = topic(names.person_events, n)
    units_t = topic(names.unit_updates, n)
    summaries_t = topic(names.day_summaries, 1)

    def table(name: str, partitions: int) -> Any:
        # use_partitioner: the changelog partition follows the key like the source topic's does,
        # so a batch can write states of several partitions at once.
        # key_type/value_type bytes make faust pick the raw codec for the changelog (it derives the
        # codec from the types, not from a schema), so recovery reads back exactly what was written.
        return app.Table(name, key_type=bytes, value_type=bytes, partitions=partitions, use_partitioner=True)

    persons = table("persons", n)
    flags_table = table("flags", n)
    person_cache: StateCache[PersonState] = StateCache(
        persons, lambda raw: PersonState.from_dict(loads_dict(raw)), lambda _: PersonState())
    units = table("units", n)
    org = table("org", 1)
    unit_cache: StateCache[UnitState] = StateCache(
        units, lambda raw: UnitState.from_dict(loads_dict(raw)), UnitState)
    org_cache: StateCache[OrgState] = StateCache(org, lambda raw: OrgState.from_dict(loads_dict(raw)),
                                                 lambda _: OrgState())
    # Unit figures are computed when Prometheus asks, for the units that changed since.
    units_to_publish: dict[str, UnitState] = {}
    org_to_publish: dict[str, OrgState] = {}

    async def send(t: faust.TopicT, key: str | None, value: bytes) -> Awaitable[Any]:
        return await t.send(key=key.encode() if key is not None else None, value=value, force=True)

    async def send_flags(flags: list[Flag], pending: list[Awaitable[Any]]) -> None:
        for flag in flags:
            pending.append(await send(flags_t, flag.flag_id, flag.model_dump_json().encode()))
            counter = metrics.flags_withdrawn if flag.status is FlagStatus.WITHDRAWN else metrics.flags_raised
            counter.labels(flag.rule.value, flag.unit_id).inc()

    async def reject(rejection: Rejection, original: bytes | None, pending: list[Awaitable[Any]]) -> None:
        metrics.events_rejected.labels(rejection.reason.value).inc()
        pending.append(await send(rejected_t, None, dead_letter(rejection, original)))
        log.debug("rejected %s at %s: %s", rejection.reason.value, rejection.source_offset, rejection.message)

    def update_message(update: UnitUpdate, offset: str | None) -> bytes:
        return UnitUpdateMessage(unit_id=update.unit_id, source=update.source, seq=update.seq,
                                 deltas=update.deltas, presence=update.presence, staffing=update.staffing,
                                 source_offset=offset).model_dump_json().encode()

    @app.agent(events_t, concurrency=1)
    async def ingest(stream: Any) -> None:
        async for batch in stream.take_events(BATCH, within=WITHIN_S):
            pending: list[Awaitable[Any]] = []
            now = dt.datetime.now(dt.UTC)
            for event in batch:
                msg = event.message
                offset = f"{msg.topic}/{msg.partition}/{msg.offset}"
                raw = event.value if isinstance(event.value, bytes) else bytes(event.value or b"")
                decoded = decode_event(raw, now, max_bytes=config.max_message_bytes, max_future=max_future,
                                       source_offset=offset)
                if isinstance(decoded, Rejection):
                    await reject(decoded, raw, pending)
                    continue
                arrival = arrival_of(msg)
                if isinstance(decoded, Staffing):
                    update = staffing_update(decoded, arrival, config.timezone)
                    pending.append(await send(units_t, update.unit_id, update_message(update, offset)))
                    continue
                pseudonym = pseudonymise(decoded.person_id)
                body = decoded.model_copy(update={"person_id": pseudonym}).model_dump_json()
                envelope = PersonEnvelope(pseudonym=pseudonym, arrival=arrival, source_offset=offset,
                                          event=body, ingested_at=time.time())
                pending.append(await send(person_t, pseudonym, envelope.model_dump_json().encode()))
            # Stateless: the offset commit flushes the producer first, so no wait is needed here.

    @app.agent(person_t, concurrency=1)
    async def person_outcomes(stream: Any) -> None:
        async for batch in stream.take_events(BATCH, within=WITHIN_S):
            states: dict[str, PersonState] = {}
            dirty: set[str] = set()
            pending: list[Awaitable[Any]] = []
            started: list[float] = []
            for event in batch:
                env = PersonEnvelope.model_validate_json(event.value)
                state = states.get(env.pseudonym)
                if state is None:
                    state = states[env.pseudonym] = person_cache.take(env.pseudonym)
                person_event = EVENT_ADAPTER.validate_json(env.event)
                result = person_stage.handle(state, person_event, env.arrival, env.pseudonym)  # type: ignore[arg-type]
                etype = person_event.event_type
                if result.outcome is Outcome.DUPLICATE:
                    metrics.events_duplicate.inc()
                    continue
                if result.outcome is Outcome.TOO_LATE:
                    rejection = Rejection(reason=RejectReason.TOO_LATE, event_id=person_event.event_id,
                                          source_offset=env.source_offset, message=too_late_message)
                    await reject(rejection, env.event.encode(), pending)
                    continue
                dirty.add(env.pseudonym)
                metrics.events_consumed.labels(etype).inc()
                age = env.arrival - epoch(person_event.occurred_at)
                metrics.event_age.labels(etype).observe(max(0, time.time() - epoch(person_event.occurred_at)))
                if age > LATE_S:
                    metrics.events_late.labels(etype).inc()
                await send_flags(result.flags, pending)
                for update in result.unit_updates:
                    pending.append(await send(units_t, update.unit_id,
                                              update_message(update, env.source_offset)))
                started.append(env.ingested_at)
            for fut in pending:
                await fut
            for key, state in states.items():
                if key in dirty:
                    person_cache.put(key, state, dumps(state))
                else:
                    person_cache.keep(key, state)
            done = time.time()
            for t in started:
                metrics.processing_latency.observe(max(0.0, done - t))

    @app.agent(units_t, concurrency=1)
    async def unit_figures(stream: Any) -> None:
        async for batch in stream.take_events(BATCH, within=WITHIN_S):
            states: dict[str, UnitState] = {}
            dirty: set[str] = set()
            summaries: dict[tuple[str, int], DaySummary] = {}
            pending: list[Awaitable[Any]] = []
            for event in batch:
                msg = UnitUpdateMessage.model_validate_json(event.value)
                state = states.get(msg.unit_id)
                if state is None:
                    state = states[msg.unit_id] = unit_cache.take(msg.unit_id)
                update = UnitUpdate(msg.unit_id, msg.source, msg.seq, list(msg.deltas), list(msg.presence),
                                    msg.staffing)
                result = unit_stage.handle(state, update)
                if result.staffing_outcome == "duplicate" and msg.source is None:
                    metrics.events_duplicate.inc()
                    continue
                if result.staffing_outcome == "duplicate":
                    metrics.unit_updates_duplicate.inc()
                    continue
                if result.staffing_outcome == "too_late":
                    rejection = Rejection(reason=RejectReason.TOO_LATE, source_offset=msg.source_offset,
                                          event_id=msg.staffing[1] if msg.staffing else None,
                                          message="staffing report more than the allowed lateness behind")
                    await reject(rejection, None, pending)
                    continue
                if msg.staffing is not None:
                    metrics.events_consumed.labels("staffing").inc()
                dirty.add(msg.unit_id)
                for s in result.summaries:
                    summaries[(s.unit_id, s.day)] = s
            for s in summaries.values():
                body = DaySummaryMessage(unit_id=s.unit_id, day=s.day, sick_days=s.sick_days,
                                         occasions=s.occasions, headcount=s.headcount)
                pending.append(await send(summaries_t, ORG_KEY, body.model_dump_json().encode()))
            for fut in pending:
                await fut
            for key, state in states.items():
                if key in dirty:
                    unit_cache.put(key, state, dumps(state))
                    units_to_publish[key] = state
                else:
                    unit_cache.keep(key, state)

    @app.agent(summaries_t, concurrency=1)
    async def org_drift_agent(stream: Any) -> None:
        # Same batch size as the other agents: with take(2500, within=0.5) the worker stalled after a
        # restart with a backlog (faust's take buffer), in 2 of 5 runs of the SIGKILL test.
        async for batch in stream.take_events(BATCH, within=WITHIN_S):
            state = org_cache.take(ORG_KEY)
            summaries = []
            for event in batch:
                m = DaySummaryMessage.model_validate_json(event.value)
                summaries.append(DaySummary(m.unit_id, m.day, m.sick_days, m.occasions, m.headcount))
            flags = org_drift.apply(state, summaries)
            pending: list[Awaitable[Any]] = []
            await send_flags(flags, pending)
            for fut in pending:
                await fut
            org_cache.put(ORG_KEY, state, dumps(state))
            metrics.drift_late.set(state.late_for_drift)
            org_to_publish[ORG_KEY] = state

    @app.agent(flags_t, concurrency=1)
    async def flag_store(stream: Any) -> None:
        """The flag store: the last state of every flag id, so that a flag sent twice counts once."""
        async for batch in stream.take_events(BATCH, within=WITHIN_S):
            for event in batch:
                flag = json.loads(event.value)
                flags_table[event.key] = json.dumps(
                    {"rule": flag["rule"], "unit": flag["unit_id"], "status": flag["status"]}).encode()

    @app.page("/health")
    async def health(web: Any, request: Any) -> Any:
        recovery = app.tables.recovery  # type: ignore[attr-defined]
        recovered = recovery.completed.is_set() and not app.in_recovery
        status = 200 if recovered else 503
        return web.json({"status": "ready" if recovered else "recovering"}, status=status)

    @app.page("/metrics")
    async def metrics_page(web: Any, request: Any) -> Any:
        for state in list(units_to_publish.values()):
            metrics.set_unit(unit_indicators(state, config))
        units_to_publish.clear()
        for org_state in list(org_to_publish.values()):
            metrics.set_relative(relative_levels(org_state, config.min_group_size))
        org_to_publish.clear()
        metrics.table_entries.labels("persons").set(len(persons))
        metrics.table_entries.labels("units").set(len(units))
        metrics.table_entries.labels("flags").set(len(flags_table))
        open_counts: dict[tuple[str, str], int] = {}
        for raw in flags_table.values():
            flag = json.loads(raw)
            if flag["status"] == FlagStatus.RAISED.value:
                key = (flag["rule"], flag["unit"])
                open_counts[key] = open_counts.get(key, 0) + 1
        metrics.flags_open.clear()
        for (rule, unit), count in open_counts.items():
            metrics.flags_open.labels(rule, unit).set(count)
        return web.bytes(generate_latest(metrics.registry), content_type="text/plain; version=0.0.4")

    @app.page("/debug/consumer")
    async def debug_consumer(web: Any, request: Any) -> Any:
        return web.json(consumer_snapshot(app))

    source_topics = {names.events, names.person_events, names.unit_updates, names.day_summaries}

    @app.timer(interval=5.0)
    async def measure_lag() -> None:
        consumer = app.consumer
        try:
            assignment = consumer.assignment()
            highwaters = await consumer.highwaters(*assignment)
        except Exception:  # noqa: BLE001 - lag is best effort; never break the worker for it
            return
        lag: dict[str, int] = {}
        for tp in assignment:
            if tp.topic not in source_topics:
                continue  # changelogs are read on recovery only
            high = highwaters.get(tp)
            if high is None:
                continue
            # faust keeps no public accessor for the committed offset
            committed = consumer._committed_offset.get(tp) or 0  # type: ignore[attr-defined]
            lag[tp.topic] = lag.get(tp.topic, 0) + max(0, high - committed)
        for topic_name, value in lag.items():
            metrics.consumer_lag.labels(topic_name).set(value)

    _ = (ingest, person_outcomes, unit_figures, org_drift_agent, flag_store, health, metrics_page,
         measure_lag, debug_consumer)
    return app

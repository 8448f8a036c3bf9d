"""The Faust worker: thin agents around the pure core, one module each.

    care.events ──ingest──▶ person-events ──persons──▶ unit-updates ──units──▶ day-summaries
    ──organisation──▶ outcome.flags ──flag_store          (rejections ──▶ care.events.rejected)
    persons (and ingest, for survey answers) ──▶ programme-events ──programmes──▶ outcome.programme-figures
    (only with programmes configured)

The ingest agent reads care.events in bulk with a consumer of its own (bulk_input.py); faust delivers the
internal topics. Every agent is a `StageAgent` (stage_agent.py): it processes each input offset once, in order, whatever
faust delivers, sends the results and waits for the broker to acknowledge them, then writes its states,
then its positions. Outputs of a batch whose states did not survive a crash are sent again and recognised
downstream (event ids at the person stage, per-person sequence numbers at the unit stage, absolute day
values at the organisation stage, flag ids in the flag store).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import faust

from streams.agents.faust_fixes import MonitorApp
from streams.agents.runtime.context import UNIT_PARTITIONS, TopicNames, WorkerContext
from streams.agents.runtime.heap_trim import TRIM_INTERVAL_S
from streams.agents.runtime.partitioning import KafkaDefaultPartitioner
from streams.agents.runtime.topics import TopicSpec
from streams.agents.stages import flag_store, ingest, organisation, persons, programmes, units
from streams.agents.web import inbox, pages
from streams.core.identity_vault import IdentityVault
from streams.kafka_access import KafkaAccess
from streams.observe.metrics import Metrics
from streams.settings import Settings


def topic_specs(settings: Settings, org_partitions: int | None = None) -> list[TopicSpec]:
    """`org_partitions`: of day-summaries (`organisation_partitions`; None: as many as the input topics)."""
    names, n = TopicNames.of(settings), settings.topics.partitions
    return [
        TopicSpec(names.events, n),
        # Keyed by source record (agents/runtime/dead_letters.py): compaction keeps one letter of a record sent
        # again after a restart; retention still removes old letters.
        TopicSpec(names.rejected, n, {"cleanup.policy": "compact,delete"}),
        # Keyed by flag_id: the last record of an id is the flag's state, so compaction keeps it.
        TopicSpec(names.flags, n, {"cleanup.policy": "compact"}),
        TopicSpec(names.person_events, n),
        TopicSpec(names.unit_updates, UNIT_PARTITIONS),
        TopicSpec(names.day_summaries, org_partitions or n),
        # Flag handling: every action and every audit entry is kept (no deletion by time or size);
        # consent and sealed identities by key, the last record of a key being its state.
        TopicSpec(names.flag_actions, n, {"retention.ms": "-1", "retention.bytes": "-1"}),
        TopicSpec(names.audit, n, {"retention.ms": "-1", "retention.bytes": "-1"}),
        TopicSpec(names.consent, n, {"cleanup.policy": "compact"}),
        TopicSpec(names.identities, n, {"cleanup.policy": "compact"}),
        # Programmes: accepted person events for the programme ledgers (one partition: the figures need
        # every person), and the figures, keyed "<programme>/<quarter>".
        TopicSpec(names.programme_events, 1),
        TopicSpec(names.programme_figures, n, {"cleanup.policy": "compact"}),
    ]


def faust_credentials(access: KafkaAccess) -> Any:
    """faust's form of the same access (faust builds its aiokafka clients from it)."""
    password = access.sasl_password.get_secret_value() if access.sasl_password is not None else None
    if access.uses_sasl:
        return faust.SASLCredentials(username=access.sasl_username, password=password,
                                     ssl_context=access.ssl_context(), mechanism=access.sasl_mechanism)
    if access.uses_tls:
        return faust.SSLCredentials(access.ssl_context())
    return None


# How the worker produces and fetches: shared with the bare faust agent of `make bench` (benchmarks/bare_faust.py),
# so its "with the worker's settings" baseline measures the framework under the same settings.
DELIVERY_OPTIONS: dict[str, Any] = {
    "producer_acks": -1,
    # Records wait up to 10 ms to go out together: one produce request instead of many small ones
    # (a busy worker spent a large share of its time writing small requests; p99 event->flag).
    "producer_linger": 0.01,
    "stream_publish_on_commit": False,
    # faust commits the internal topics' offsets after its producer has flushed everything in flight
    # (faust/transport/consumer.py, `_commit_offsets`). On a loaded machine that flush took longer than
    # faust's 2.8 s interval, and faust warned "Timer commit is overlapping". Those offsets only say where
    # faust starts delivering after a restart; what was processed is the agents' positions, so committing
    # less often costs only records delivered again and skipped.
    "broker_commit_interval": 10.0,
    # Bytes fetched ahead per partition (faust's default is 1 MiB; the worker reads ~40 partitions):
    # records waiting in fetch buffers were the largest share of a draining worker's memory. A larger
    # record (an internal batch, at most 512 KiB) is still returned whole by the broker (KIP-74).
    "consumer_max_fetch_size": 256 * 1024,
    # and at most this many records handed over per poll (faust's default: all that were fetched)
    "broker_max_poll_records": 2_000,
}


def organisation_partitions(settings: Settings) -> int:
    """The partitions of day-summaries and of the organisation table: as many as the input topics in a new
    deployment; an existing deployment keeps what it has (one, before peer groups): Kafka hashes a key
    over the partition count, so more partitions would move the groups' states away from their keys."""
    from streams.agents.runtime.topics import kept_partitions

    n = settings.topics.partitions
    kept = kept_partitions(settings.bootstrap_servers, TopicNames.of(settings).day_summaries, (1, n),
                           settings.kafka)
    return n if kept is None else kept


def build_app(settings: Settings, metrics: Metrics, org_partitions: int | None = None) -> Any:
    names = TopicNames.of(settings)
    app = MonitorApp(
        settings.app_id,
        broker=f"kafka://{settings.bootstrap_servers}",
        store=settings.store,
        datadir=settings.data_dir,
        web_host=settings.web_host,
        web_port=settings.web_port,
        web_enabled=True,
        # faust's own views (tables, routing, graphs, stats) are off: the web server serves only the
        # pages of agents/web/pages.py and faust's "/" ({"status": "OK"}); see docs/metrics-and-boards.md.
        web_router_enabled=False,
        web_tables_enabled=False,
        web_graph_enabled=False,
        web_stats_enabled=False,
        web_metrics_enabled=False,
        topic_partitions=settings.topics.partitions,
        topic_replication_factor=settings.topics.replication_factor,
        broker_credentials=faust_credentials(settings.kafka),
        consumer_auto_offset_reset="earliest",
        **DELIVERY_OPTIONS,
        producer_partitioner=KafkaDefaultPartitioner(),  # Kafka's partitions, hashed faster (partitioning.py)
        table_standby_replicas=0,
        # A killed worker's membership lapses after this; its replacement waits no longer than that.
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=max(1.0, settings.session_timeout_s / 4),
        key_serializer="raw",
        value_serializer="raw",
    )
    key_file = settings.inbox.reveal_key_file
    vault = IdentityVault(Path(key_file).read_bytes()) if key_file else None  # "": none (docker-compose)
    pipeline = WorkerContext(app, settings, metrics, names, vault=vault, org_partitions=org_partitions)
    for stage in (ingest, persons, units, organisation, programmes, flag_store, pages, inbox):
        stage.register(pipeline)  # type: ignore[attr-defined]
    app.on_partitions_revoked.connect(pipeline.on_revoked)

    @app.timer(interval=TRIM_INTERVAL_S, name="heap-trim")
    async def trim_heap() -> None:
        pipeline.heap_trim.tick(sum(stage.stats.processed for stage in pipeline.stages.values()))

    return app

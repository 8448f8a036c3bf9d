"""The worker's web pages and its lag timer: /health (ready only after table recovery), /metrics (unit
figures computed when Prometheus asks), /debug/consumer (why a lag does not move)."""

from __future__ import annotations

import json
from typing import Any

from prometheus_client import generate_latest

from streams.agents.diagnostics import consumer_snapshot
from streams.agents.pipeline import Pipeline
from streams.core.indicators import unit_indicators
from streams.core.org import relative_levels
from streams.models.flags import FlagStatus

LAG_INTERVAL_S = 5.0


def register(p: Pipeline) -> list[Any]:
    app, metrics, config = p.app, p.metrics, p.config

    @app.page("/health")
    async def health(web: Any, request: Any) -> Any:
        recovery = app.tables.recovery  # type: ignore[attr-defined]
        recovered = recovery.completed.is_set() and not app.in_recovery
        status = 200 if recovered else 503
        return web.json({"status": "ready" if recovered else "recovering"}, status=status)

    @app.page("/metrics")
    async def metrics_page(web: Any, request: Any) -> Any:
        for state in list(p.units_to_publish.values()):
            metrics.set_unit(unit_indicators(state, config))
        p.units_to_publish.clear()
        for org_state in list(p.org_to_publish.values()):
            metrics.set_relative(relative_levels(org_state, config.min_group_size))
        p.org_to_publish.clear()
        metrics.table_entries.labels("persons").set(len(p.persons))
        metrics.table_entries.labels("units").set(len(p.units))
        metrics.table_entries.labels("flags").set(len(p.flags))
        open_counts: dict[tuple[str, str], int] = {}
        for raw in p.flags.values():
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

    names = p.names
    source_topics = {names.events, names.person_events, names.unit_updates, names.day_summaries}

    @app.timer(interval=LAG_INTERVAL_S)
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

    return [health, metrics_page, debug_consumer, measure_lag]

"""The worker's web pages and its progress timer: /health (ready after table recovery, degraded while a
partition fails or stalls: agents/runtime/health.py), /metrics
(unit figures computed when Prometheus asks), /debug/progress (where each agent stands), and a log line
every few seconds while a backlog drains (events/s, lag, estimated time left)."""

from __future__ import annotations

import logging
import time
from typing import Any

from prometheus_client import generate_latest

from streams.agents.runtime.codec import loads_dict
from streams.agents.runtime.context import WorkerContext
from streams.agents.runtime.health import StallWatch, problems
from streams.core.disclosure import UnitSize, feedback_by_label, labeller, open_flag_counts
from streams.core.org.coverage import unit_monitoring
from streams.core.org.levels import relative_levels
from streams.core.unit.indicators import unit_indicators
from streams.models.flags import FlagStatus
from streams.models.vocab import Rule
from streams.progress import BacklogReport

RULES = {r.value for r in Rule}

log = logging.getLogger(__name__)

LAG_INTERVAL_S = 5.0


def register(p: WorkerContext) -> list[Any]:
    app, metrics, config = p.app, p.metrics, p.config

    watch = StallWatch(p.settings.stalled_after_s)

    def current_problems() -> list[Any]:
        return problems(p.stages, {name: p.assigned(stage.topic) for name, stage in p.stages.items()}, watch)

    @app.page("/health")
    async def health(web: Any, request: Any) -> Any:
        if not p.ready():
            return web.json({"status": "recovering"}, status=503)
        found = current_problems()
        if found:
            return web.json({"status": "degraded", "problems": [x.as_dict() for x in found]}, status=503)
        return web.json({"status": "ready"}, status=200)

    @app.page("/metrics")
    async def metrics_page(web: Any, request: Any) -> Any:
        for state in list(p.units_to_publish.values()):
            if p.unit_labels.own(state.unit_id):  # beyond the label limit: rates cannot be summed; left out
                metrics.set_unit(unit_indicators(state, config))
        p.units_to_publish.clear()
        for org_state in list(p.org_to_publish.values()):
            metrics.set_relative([level for level in relative_levels(org_state, config.min_group_size)
                                  if p.unit_labels.own(level.unit_id)])
            metrics.set_monitoring([m for m in unit_monitoring(org_state, config) if p.unit_labels.own(m.unit_id)])
        p.org_to_publish.clear()
        for document in list(p.programmes_to_publish.values()):
            metrics.programmes.set_results(document)
        p.programmes_to_publish.clear()
        metrics.table_entries.labels("persons").set(len(p.persons))
        metrics.table_entries.labels("units").set(len(p.units))
        metrics.table_entries.labels("flags").set(len(p.flags))
        open_flags = []
        for raw in p.flags.values():
            try:
                flag = loads_dict(raw)
            except ValueError:
                continue
            if isinstance(flag, dict) and flag.get("status") == FlagStatus.RAISED.value and flag.get("rule") in RULES:
                open_flags.append((Rule(flag["rule"]), str(flag.get("unit"))))
        open_counts = open_flag_counts(open_flags, unit_sizes(p, {u for _, u in open_flags}), p.unit_labels, config)
        metrics.flags_open.clear()
        for (rule, unit), count in open_counts.items():
            metrics.flags_open.labels(rule, unit).set(count)
        if p.inbox is not None and p.inbox.ready.is_set():
            # how recipients handled flags (every worker holds the same read model: boards take max by)
            feedback = p.inbox.board.feedback()
            sizes = unit_sizes(p, {u for _, u in feedback})
            metrics.set_feedback(feedback_by_label(feedback, labeller(sizes, p.unit_labels, config)))
        return web.bytes(generate_latest(metrics.registry), content_type="text/plain; version=0.0.4")

    @app.page("/debug/progress")
    async def debug_progress(web: Any, request: Any) -> Any:
        """Per agent and input partition: assigned, next offset to process, the broker's end. Offsets
        and counts only, no content: the first place to look when a lag stops moving."""
        return web.json(await progress_snapshot(p))

    last = {"t": time.monotonic(), "processed": 0}
    reported: set[tuple[str, int]] = set()  # problems logged already (each once, when it appears)
    report = BacklogReport(LAG_INTERVAL_S)  # a lag gone before the next report is steady state

    @app.timer(interval=LAG_INTERVAL_S)
    async def measure_lag() -> None:
        try:
            snapshot = await progress_snapshot(p)
        except Exception:  # noqa: BLE001 - lag is best effort; never break the worker for it
            return
        if not snapshot["ready"]:
            return
        watch.observe({(name, int(part)): (v["position"], v["end"]) for name, stage in snapshot["agents"].items()
                       for part, v in stage["partitions"].items()}, time.monotonic())
        now_found = {(x.stage, x.partition): x for x in current_problems()}
        metrics.partition_stalled.clear()
        for name, stage in snapshot["agents"].items():
            for part in stage["partitions"]:
                metrics.partition_stalled.labels(name, part).set(1 if (name, int(part)) in now_found else 0)
        for key in sorted(set(now_found) - reported):
            x = now_found[key]
            log.warning("%s: %s/%s is %s", x.stage, x.topic, x.partition, x.why)
        reported.clear()
        reported.update(now_found)
        lag_by_topic: dict[str, int] = {}
        for stage in snapshot["agents"].values():
            lag_by_topic[stage["topic"]] = sum(part["lag"] for part in stage["partitions"].values())
        for topic_name, value in lag_by_topic.items():
            metrics.consumer_lag.labels(topic_name).set(value)
        now = time.monotonic()
        processed = p.stages["ingest"].stats.processed if "ingest" in p.stages else 0
        rate = (processed - last["processed"]) / max(1e-6, now - last["t"])
        last.update(t=now, processed=processed)
        backlog = lag_by_topic.get(p.names.events, 0)
        behind = sum(lag_by_topic.values())
        if line := report.line(backlog, behind - backlog, rate, processed):
            log.info("%s", line)

    return [health, metrics_page, debug_progress, measure_lag]


def unit_sizes(p: WorkerContext, unit_ids: set[str]) -> dict[str, UnitSize]:
    """The group sizes of the units whose states this worker holds (a unit not held counts as small)."""
    sizes = {}
    for unit_id in unit_ids:
        held = p.unit_state(unit_id)
        if held is not None:
            sizes[unit_id] = UnitSize(held.headcount_on(held.clock_day), held.population_size())
    return sizes


async def progress_snapshot(p: WorkerContext) -> dict[str, Any]:
    """Empty while tables recover or a rebalance runs: positions are only known once they are back."""
    agents: dict[str, Any] = {}
    if not p.ready():
        return {"ready": False, "agents": agents}
    for name, stage in p.stages.items():
        assigned = p.assigned(stage.topic)
        ends = await p.reader.end_offsets(stage.topic, assigned) if assigned else {}
        parts: dict[str, Any] = {}
        for part in assigned:
            position = stage.positions.get(part)
            if position is None:  # nothing processed yet: from the partition's first offset
                position = await p.reader.beginning_offset(stage.topic, part)
            end = ends.get(part, 0)
            parts[str(part)] = {"position": position, "end": end, "lag": max(0, end - position)}
        agents[name] = {"topic": stage.topic, "processed": stage.stats.processed,
                        "redelivered_skipped": stage.stats.redelivered_skipped,
                        "read_from_broker": stage.stats.fetched_from_broker,
                        "failed_items": stage.stats.failed_items, "failed_attempts": stage.stats.failed_attempts,
                        "delivered_before_ready": stage.stats.delivered_before_ready, "partitions": parts}
    return {"ready": p.ready(), "agents": agents}

"""What the worker's consumer is doing, for `/debug/consumer`: when the lag stops moving, this says
whether partitions are assigned, paused or held back for buffer pressure, where fetching stands and
why commits do not advance. Topic names, partitions and offsets only; no message content.

It reads faust's and aiokafka's internal state (there is no public accessor), read-only and
best effort: a field that cannot be read is reported as an error, never raised.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def _tp(tp: Any) -> str:
    return f"{tp.topic}/{tp.partition}"


def _tps(tps: Iterable[Any] | None) -> list[str]:
    return sorted(_tp(tp) for tp in (tps or ()))


def consumer_snapshot(app: Any) -> dict[str, Any]:
    c = app.consumer
    out: dict[str, Any] = {}
    try:
        out.update({
            "assigned": _tps(c.assignment()),
            "fetching": _tps(c._active_partitions),
            "paused": _tps(c._paused_partitions),
            "held_for_buffer_pressure": _tps(c._buffered_partitions),
            "flow_active": c.flow_active,
            "in_recovery": app.in_recovery,
            "rebalancing": app.rebalancing,
            "read_offset": {_tp(tp): v for tp, v in c._read_offset.items() if v is not None},
            "committed_offset": {_tp(tp): v for tp, v in c._committed_offset.items() if v is not None},
            # acknowledged but not yet committed: count, lowest, highest, acknowledged twice
            "acked_not_committed": {_tp(tp): {"count": len(v), "lowest": min(v), "highest": max(v),
                                              "twice": len(v) - len(set(v))}
                                    for tp, v in c._acked.items() if v},
            "gaps": {_tp(tp): str(v) for tp, v in c._gap.items() if v},
        })
    except Exception as exc:  # noqa: BLE001 - diagnostics never break the worker
        out["consumer_error"] = repr(exc)
    try:
        fetcher = c._thread._consumer._fetcher
        out["fetched_not_delivered"] = _tps(fetcher._records.keys())
    except Exception as exc:  # noqa: BLE001
        out["fetcher_error"] = repr(exc)
    queues: dict[str, Any] = {}
    for agent in app.agents.values():
        try:
            queues[agent.name] = agent.channel.queue.qsize()
        except Exception as exc:  # noqa: BLE001
            queues[agent.name] = repr(exc)
    out["agent_queue_sizes"] = queues
    return out

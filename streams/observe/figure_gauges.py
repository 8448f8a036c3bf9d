"""A figure with its 95% interval as Prometheus gauges (value, lower, upper)."""

from __future__ import annotations

import contextlib

from prometheus_client import CollectorRegistry, Gauge

from streams.core.unit.indicators import Figure


class FigureGauges:
    """A figure with its 95% interval: three gauges with the same labels. A suppressed figure (too
    small a group) is removed, not set to zero: no series is published for it at all."""

    def __init__(self, name: str, doc: str, labels: list[str], registry: CollectorRegistry) -> None:
        base = name.removesuffix("_ratio")
        suffix = "_ratio" if name.endswith("_ratio") else ""
        self.value = Gauge(name, doc, labels, registry=registry)
        self.lower = Gauge(f"{base}_lower{suffix}", f"{doc} Lower bound of the 95% interval.", labels,
                           registry=registry)
        self.upper = Gauge(f"{base}_upper{suffix}", f"{doc} Upper bound of the 95% interval.", labels,
                           registry=registry)

    def set(self, labels: tuple[str, ...], value: float | None, low: float | None,
            high: float | None) -> None:
        if value is None or low is None or high is None:
            for g in (self.value, self.lower, self.upper):
                with contextlib.suppress(KeyError):
                    g.remove(*labels)
            return
        self.value.labels(*labels).set(value)
        self.lower.labels(*labels).set(low)
        self.upper.labels(*labels).set(high)

    def set_figure(self, labels: tuple[str, ...], fig: Figure) -> None:
        self.set(labels, None if fig.suppressed else fig.value, fig.low, fig.high)

"""Grafana's dashboard JSON model (schemaVersion 39) as plain dicts: queries, panels, variables, a board.

Every panel and query reads the Prometheus datasource with the fixed uid below (provisioned with it).
"""

from __future__ import annotations

from typing import Any

DATASOURCE_UID = "outcome-prometheus"
DATASOURCE = {"type": "prometheus", "uid": DATASOURCE_UID}

Panel = dict[str, Any]


def target(expr: str, legend: str = "", ref: str = "A") -> dict[str, Any]:
    return {"datasource": DATASOURCE, "expr": expr, "legendFormat": legend, "refId": ref, "range": True}


def timeseries(title: str, targets: list[dict[str, Any]], unit: str = "short", *, band: bool = False,
               description: str = "") -> Panel:
    panel: Panel = {
        "type": "timeseries", "title": title, "description": description, "datasource": DATASOURCE,
        "targets": targets,
        "fieldConfig": {"defaults": {"unit": unit, "custom": {"fillOpacity": 0, "lineWidth": 2}},
                        "overrides": []},
        "options": {"legend": {"displayMode": "table", "placement": "right"},
                    "tooltip": {"mode": "multi"}},
    }
    if band:
        # The interval: upper bound filled down to the lower bound, both drawn thin and dashed.
        panel["fieldConfig"]["overrides"] = [
            {"matcher": {"id": "byRegexp", "options": ".*upper.*"},
             "properties": [{"id": "custom.fillBelowTo", "value": "lower"},
                            {"id": "custom.fillOpacity", "value": 15},
                            {"id": "custom.lineWidth", "value": 0}]},
            {"matcher": {"id": "byRegexp", "options": ".*lower.*"},
             "properties": [{"id": "custom.lineWidth", "value": 0}]},
        ]
    return panel


def with_band(metric: str, selector: str, value_legend: str, refs: str = "ABC") -> list[dict[str, Any]]:
    base = metric.removesuffix("_ratio")
    suffix = "_ratio" if metric.endswith("_ratio") else ""
    return [
        target(f"{metric}{{{selector}}}", value_legend, refs[0]),
        target(f"{base}_lower{suffix}{{{selector}}}", f"{value_legend} lower", refs[1]),
        target(f"{base}_upper{suffix}{{{selector}}}", f"{value_legend} upper", refs[2]),
    ]


def table(title: str, expr: str, unit: str = "short", description: str = "") -> Panel:
    return {
        "type": "table", "title": title, "description": description, "datasource": DATASOURCE,
        "targets": [{**target(expr, "", "A"), "instant": True, "range": False, "format": "table"}],
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "transformations": [{"id": "organize", "options": {"excludeByName": {"Time": True}}}],
    }


def merged_table(title: str, columns: list[tuple[str, str]], unit: str = "short", description: str = "") -> Panel:
    """One row per label set, one column per query (instant), named by `columns` (expr, column name)."""
    refs = "ABCDEFGHIJ"
    return {
        "type": "table", "title": title, "description": description, "datasource": DATASOURCE,
        "targets": [{**target(expr, "", refs[i]), "instant": True, "range": False, "format": "table"}
                    for i, (expr, _) in enumerate(columns)],
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "transformations": [
            {"id": "merge", "options": {}},
            {"id": "organize", "options": {
                "excludeByName": {"Time": True},
                "renameByName": {f"Value #{refs[i]}": name for i, (_, name) in enumerate(columns)}}},
        ],
    }


def layout(panels: list[Panel]) -> list[Panel]:
    """Two panels a row, each 12 wide and 8 high, ids in order."""
    for i, p in enumerate(panels):
        p["id"] = i + 1
        p["gridPos"] = {"h": 8, "w": 12, "x": (i % 2) * 12, "y": (i // 2) * 8}
    return panels


def label_variable(name: str, label: str, source_metric: str) -> dict[str, Any]:
    """A board variable `$name`: the values of label `name` on `source_metric`, all selected by default."""
    return {"name": name, "label": label, "type": "query", "datasource": DATASOURCE,
            "query": {"query": f"label_values({source_metric}, {name})", "refId": f"{name}s"},
            "definition": f"label_values({source_metric}, {name})", "includeAll": True, "multi": True,
            "current": {"text": "All", "value": "$__all"}, "refresh": 2, "sort": 1}


def unit_variable(source_metric: str) -> dict[str, Any]:
    return label_variable("unit", "Unit", source_metric)


def dashboard(uid: str, title: str, panels: list[Panel], *, variables: list[dict[str, Any]] | None = None,
              annotations: list[dict[str, Any]] | None = None, description: str = "") -> dict[str, Any]:
    builtin = {"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True,
               "hide": True, "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts",
               "type": "dashboard"}
    return {
        "uid": uid, "title": title, "description": description, "tags": ["outcome-monitor"],
        "timezone": "browser", "schemaVersion": 39, "version": 1, "editable": True, "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": variables or []},
        "annotations": {"list": [builtin, *(annotations or [])]},
        "panels": layout(panels),
    }

"""`outcome-monitor grafana provision`: folder, datasource and dashboards through Grafana's HTTP API
(grafana-client), and unit-level flags as annotations on the matching panels. Never a person id."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError

from streams.observe.dashboards import DATASOURCE_UID, FOLDER_TITLE, FOLDER_UID, all_dashboards

DATASOURCE_NAME = "Prometheus (outcome-monitor)"
ANNOTATION_TAG = "outcome-monitor"
# Which panels a unit flag belongs on: (dashboard uid, panel title).
PANELS_FOR_RULE = {
    "unit_sick_leave_drift": [("om-sick-leave", "Trend-adjusted level vs the rest of the organisation"),
                              ("om-sick-leave", "Sick-leave rate, 28 days (95% interval)")],
}


@dataclass
class ProvisionReport:
    folder: str = ""
    datasource: str = ""
    dashboards: list[str] = field(default_factory=list)
    annotations_added: int = 0
    annotations_existing: int = 0

    def text(self) -> str:
        return (f"grafana: folder {self.folder}; datasource {self.datasource}; dashboards "
                f"{', '.join(self.dashboards)}; annotations added {self.annotations_added} "
                f"(already there {self.annotations_existing})")


def _missing(exc: GrafanaClientError) -> bool:
    return getattr(exc, "status_code", None) == 404


def connect(url: str, token: str | None = None, user: str | None = None, password: str | None = None) -> GrafanaApi:
    credential: Any = token if token else (user, password) if user else None
    return GrafanaApi.from_url(url, credential=credential, timeout=10.0)


def ensure_folder(api: GrafanaApi) -> str:
    try:
        api.folder.get_folder(FOLDER_UID)
        return "exists"
    except GrafanaClientError as exc:
        if not _missing(exc):
            raise
    api.folder.create_folder(FOLDER_TITLE, uid=FOLDER_UID)
    return "created"


def ensure_datasource(api: GrafanaApi, prometheus_url: str) -> str:
    body = {"name": DATASOURCE_NAME, "uid": DATASOURCE_UID, "type": "prometheus", "access": "proxy",
            "url": prometheus_url, "isDefault": True, "jsonData": {"httpMethod": "POST"}}
    try:
        api.datasource.get_datasource_by_uid(DATASOURCE_UID)
    except GrafanaClientError as exc:
        if not _missing(exc):
            raise
        api.datasource.create_datasource(body)
        return "created"
    api.datasource.update_datasource_by_uid(DATASOURCE_UID, body)
    return "updated"


def push_dashboards(api: GrafanaApi) -> list[str]:
    done = []
    for board in all_dashboards().values():
        payload = {"dashboard": {**board, "id": None}, "folderUid": FOLDER_UID, "overwrite": True,
                   "message": "provisioned by outcome-monitor"}
        api.dashboard.update_dashboard(payload)
        done.append(board["uid"])
    return done


def _panel_id(uid: str, title: str) -> int:
    for board in all_dashboards().values():
        if board["uid"] == uid:
            for panel in board["panels"]:
                if panel["title"] == title:
                    return int(panel["id"])
    raise KeyError(f"no panel {title!r} on {uid}")


def push_flag_annotations(api: GrafanaApi, flags: Iterable[dict[str, Any]], report: ProvisionReport) -> None:
    """One annotation per unit flag and matching panel; person flags never go to a board."""
    unit_flags = [f for f in flags if f.get("subject_kind") == "unit" and f.get("status") == "raised"
                  and f.get("rule") in PANELS_FOR_RULE]
    if not unit_flags:
        return
    existing: set[tuple[str, int, str]] = set()
    for uid in {uid for rule in PANELS_FOR_RULE.values() for uid, _ in rule}:
        for ann in api.annotations.find_annotations(dashboard_uid=uid, tags=[ANNOTATION_TAG], limit=5000) or []:
            for tag in ann.get("tags", []):
                if tag.startswith("flag:"):
                    existing.add((uid, int(ann.get("panelId") or 0), tag))
    for flag in unit_flags:
        when = dt.datetime.fromisoformat(str(flag["raised_at"]).replace("Z", "+00:00"))
        ms = int(when.timestamp() * 1000)
        tag = f"flag:{flag['flag_id']}"
        evidence = flag.get("evidence", {})
        text = (f"{flag['rule']}: unit {flag['unit_id']}, level {evidence.get('current_ratio')} "
                f"(95% {evidence.get('current_interval', {}).get('low')}–"
                f"{evidence.get('current_interval', {}).get('high')}) vs baseline "
                f"{evidence.get('baseline_ratio')}, week {evidence.get('window_start')}")
        for uid, title in PANELS_FOR_RULE[str(flag["rule"])]:
            panel_id = _panel_id(uid, title)
            if (uid, panel_id, tag) in existing:
                report.annotations_existing += 1
                continue
            api.annotations.add_annotation(dashboard_uid=uid, panel_id=panel_id, time_from=ms, time_to=ms,
                                           tags=[ANNOTATION_TAG, str(flag["rule"]), f"unit:{flag['unit_id']}",
                                                 tag], text=text)
            report.annotations_added += 1


def provision(api: GrafanaApi, prometheus_url: str, flags: Iterable[dict[str, Any]] = ()) -> ProvisionReport:
    report = ProvisionReport()
    report.folder = ensure_folder(api)
    report.datasource = ensure_datasource(api, prometheus_url)
    report.dashboards = push_dashboards(api)
    push_flag_annotations(api, flags, report)
    return report

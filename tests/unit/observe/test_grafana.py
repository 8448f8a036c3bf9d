"""Dashboards as code and provisioning through the HTTP API (against a stand-in: Grafana cannot be
installed on these machines)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from grafana_client.client import GrafanaUnauthorizedError
from prometheus_client import CollectorRegistry

from streams.observe import dashboards
from streams.observe.programme_metrics import ProgrammeGauges
from streams.observe.provision import connect, provision
from tests.grafana_standin import TOKEN, StandinGrafana

ROOT = Path(__file__).resolve().parents[3]

DRIFT_FLAG = {
    "flag_id": "f_drift1", "rule": "unit_sick_leave_drift", "status": "raised", "subject_kind": "unit",
    "subject_id": "hr-unit-03", "unit_id": "hr-unit-03", "raised_at": "2025-09-01T22:00:00Z",
    "evidence": {"current_ratio": 2.1, "current_interval": {"low": 1.2, "high": 3.4}, "baseline_ratio": 1.0,
                 "window_start": "2025-08-25"},
}
PERSON_FLAG = {"flag_id": "f_person", "rule": "repeated_sick_leave", "status": "raised", "subject_kind": "person",
               "subject_id": "p_0123456789abcdef0123456789abcdef", "unit_id": "hr-unit-03",
               "raised_at": "2025-09-01T07:00:00Z", "evidence": {}}


def test_generated_dashboards_are_committed_and_current() -> None:
    assert dashboards.stale() == [], "run `outcome-monitor grafana dashboards` and commit grafana/dashboards"


def test_every_panel_reads_the_fixed_datasource_and_names_no_person() -> None:
    boards = dashboards.all_dashboards()
    assert {b["title"] for b in boards.values()} == {"Sick leave by unit", "Care utilisation", "Flags",
                                                    "Flag handling", "Pipeline health", "Programmes"}
    for board in boards.values():
        for panel in board["panels"]:
            assert panel["datasource"]["uid"] == dashboards.DATASOURCE_UID
            assert all(t["datasource"]["uid"] == dashboards.DATASOURCE_UID for t in panel["targets"])
        text = json.dumps(board)
        assert "person_id" not in text and "subject" not in text and "\"p_" not in text


def test_the_programmes_board_reads_only_what_the_programme_gauges_publish() -> None:
    registry = CollectorRegistry()
    ProgrammeGauges(registry)
    published = {family.name for family in registry.collect()}
    board = dashboards.all_dashboards()["om-programmes.json"]
    queries = dashboards.panel_queries(board)
    read = {name for _, expr in queries for name in re.findall(r"\boutcome_[a-z0-9_]+", expr)}
    assert read == published  # every gauge on the board, and nothing the gauges do not publish
    assert all('programme=~"$programme"' in expr for _, expr in queries)
    assert [v["name"] for v in board["templating"]["list"]] == ["programme"]
    titles = [p["title"] for p in board["panels"]]
    assert {"Enrolled and active", "Effect per person-month (95% interval)", "Relative effect (95% interval)",
            "Money by period, SEK (95% interval)"} <= set(titles)


def test_file_provisioning_points_at_the_same_datasource_uid_and_dashboard_files() -> None:
    import yaml

    ds = yaml.safe_load((ROOT / "grafana/provisioning/datasources/prometheus.yaml").read_text())
    assert [d["uid"] for d in ds["datasources"]] == [dashboards.DATASOURCE_UID]
    providers = yaml.safe_load((ROOT / "grafana/provisioning/dashboards/outcome-monitor.yaml").read_text())
    assert providers["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"


def test_provision_creates_folder_datasource_dashboards_and_unit_flag_annotations() -> None:
    with StandinGrafana() as grafana:
        api = connect(grafana.url, token=TOKEN)
        report = provision(api, "http://prometheus:9090", [DRIFT_FLAG, PERSON_FLAG])
        assert grafana.violations == []
        assert report.folder == "created" and report.datasource == "created"
        assert set(grafana.dashboards) == {"om-sick-leave", "om-care", "om-flags", "om-flag-handling",
                                           "om-pipeline", "om-programmes"}
        assert all(d["folderUid"] == dashboards.FOLDER_UID for d in grafana.dashboards.values())
        assert grafana.datasources[dashboards.DATASOURCE_UID]["url"] == "http://prometheus:9090"
        # The unit flag lands on its two panels; the person flag on none, and no pseudonym anywhere.
        assert len(grafana.annotations) == 2
        assert {a["dashboardUID"] for a in grafana.annotations} == {"om-sick-leave"}
        assert all("unit:hr-unit-03" in a["tags"] for a in grafana.annotations)
        assert "p_0123" not in json.dumps(grafana.annotations)


def test_provisioning_twice_updates_in_place_and_adds_no_duplicate_annotation() -> None:
    with StandinGrafana() as grafana:
        api = connect(grafana.url, token=TOKEN)
        provision(api, "http://prometheus:9090", [DRIFT_FLAG])
        again = provision(api, "http://prometheus:9191", [DRIFT_FLAG])
        assert grafana.violations == []
        assert again.folder == "exists" and again.datasource == "updated"
        assert again.annotations_added == 0 and again.annotations_existing == 2
        assert len(grafana.annotations) == 2
        assert grafana.datasources[dashboards.DATASOURCE_UID]["url"] == "http://prometheus:9191"


def test_the_standin_refuses_a_request_without_the_token() -> None:
    with StandinGrafana() as grafana:
        api = connect(grafana.url, token="wrong")
        with pytest.raises(GrafanaUnauthorizedError):
            provision(api, "http://prometheus:9090")
        assert grafana.violations and "Authorization" in grafana.violations[0]

"""docker-compose.yml describes the same stack as `make demo` (no Docker engine runs here, so its
structure is what is checked)."""

from __future__ import annotations

from pathlib import Path

import yaml

from streams.observe.dashboards import DATASOURCE_UID
from streams.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_the_stack_has_kafka_worker_simulator_prometheus_alertmanager_grafana() -> None:
    assert set(SERVICES) == {"kafka", "worker", "simulator", "prometheus", "alertmanager", "grafana"}


def test_images_are_pinned_to_exact_versions() -> None:
    assert SERVICES["kafka"]["image"] == "apache/kafka:3.9.1"
    for name, service in SERVICES.items():
        image = service.get("image")
        if image is not None:
            assert ":" in image and not image.endswith(":latest"), name
        else:
            assert service["build"] == "." and (ROOT / "Dockerfile").exists()


def test_ports_and_healthchecks() -> None:
    assert "127.0.0.1:9092:9092" in SERVICES["kafka"]["ports"]
    assert "127.0.0.1:6066:6066" in SERVICES["worker"]["ports"]
    assert "127.0.0.1:9090:9090" in SERVICES["prometheus"]["ports"]
    assert "127.0.0.1:9095:9093" in SERVICES["alertmanager"]["ports"]
    assert "127.0.0.1:3000:3000" in SERVICES["grafana"]["ports"]
    for name in ("kafka", "worker", "prometheus", "alertmanager", "grafana"):
        assert SERVICES[name]["healthcheck"]["test"], name
    assert SERVICES["worker"]["depends_on"]["kafka"]["condition"] == "service_healthy"


def test_kafka_listeners_serve_containers_and_the_host() -> None:
    env = SERVICES["kafka"]["environment"]
    assert "INTERNAL://kafka:29092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert "EXTERNAL://localhost:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert SERVICES["worker"]["environment"]["OUTCOME_MONITOR_BOOTSTRAP_SERVERS"] == "kafka:29092"


def test_the_worker_env_names_settings_the_worker_reads_with_the_default_topics() -> None:
    env = SERVICES["worker"]["environment"]
    fields = set(Settings.model_fields)
    defaults = Settings().topics
    for key, value in env.items():
        assert key.startswith("OUTCOME_MONITOR_"), key
        name = key.removeprefix("OUTCOME_MONITOR_").lower()
        top, _, sub = name.partition("__")
        assert top in fields, key
        if top == "topics" and sub in ("events", "rejected", "flags"):
            assert value == getattr(defaults, sub)
    assert SERVICES["simulator"]["environment"] == env


def test_every_mounted_file_exists_and_prometheus_scrapes_the_worker() -> None:
    for name in ("prometheus", "alertmanager", "grafana"):
        for volume in SERVICES[name]["volumes"]:
            source = volume.split(":")[0]
            assert (ROOT / source).exists(), volume
    prom = yaml.safe_load((ROOT / "prometheus" / "docker-prometheus.yml").read_text())
    assert prom["scrape_configs"][0]["static_configs"][0]["targets"] == ["worker:6066"]
    local = yaml.safe_load((ROOT / "prometheus" / "prometheus.yml").read_text())
    assert prom["rule_files"] == local["rule_files"]
    assert prom["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["alertmanager:9093"]
    assert "alertmanager" in SERVICES["prometheus"]["depends_on"]
    datasource = yaml.safe_load((ROOT / "grafana/provisioning/datasources/prometheus.yaml").read_text())
    assert datasource["datasources"][0]["uid"] == DATASOURCE_UID
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"


def test_every_port_is_bound_to_localhost_and_no_secret_has_a_default() -> None:
    for name, service in SERVICES.items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), (name, port)
    grafana = SERVICES["grafana"]["environment"]
    assert grafana["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD:?")
    key = SERVICES["worker"]["environment"]["OUTCOME_MONITOR_PSEUDONYM_KEY"]
    assert key.startswith("${OUTCOME_MONITOR_PSEUDONYM_KEY:?") and "demo" not in key
    example = (ROOT / ".env.example").read_text()
    assert "OUTCOME_MONITOR_PSEUDONYM_KEY=\n" in example and "GRAFANA_ADMIN_PASSWORD=\n" in example

"""Grafana: dashboards as code and provisioning through the HTTP API."""

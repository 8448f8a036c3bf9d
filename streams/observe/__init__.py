"""What the monitor shows: Prometheus metrics and the Grafana dashboards and provisioning built on them."""

#!/usr/bin/env bash
# The whole test run: static checks, then unit and integration tests against real services.
# Services the tests need are started here, and stopped again if this script started them.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

echo "== static checks"
$BIN/ruff check .
$BIN/mypy
$BIN/lint-imports
$BIN/outcome-monitor schemas --check
$BIN/outcome-monitor grafana dashboards --check

started_kafka=0
if ! bash scripts/kafka.sh status >/dev/null 2>&1; then
  bash scripts/kafka.sh start
  started_kafka=1
fi
cleanup() {
  if [ "$started_kafka" = 1 ]; then bash scripts/kafka.sh stop || true; fi
}
trap cleanup EXIT

echo "== tests"
$BIN/python -m pytest -q -p no:cacheprovider --durations=30 "$@"

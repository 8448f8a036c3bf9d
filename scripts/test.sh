#!/usr/bin/env bash
# The whole test run: static checks, then unit and integration tests against real services.
# Services that the tests need are started here (and stopped again if this script started them).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

echo "== static checks"
$BIN/ruff check .
$BIN/mypy
$BIN/lint-imports
$BIN/outcome-monitor schemas --check

echo "== tests"
$BIN/python -m pytest -q "$@"

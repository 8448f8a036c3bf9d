# outcome-monitor: the README's commands. Everything installs itself into .venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install sample demo test test-unit lint schemas bench soak drift-eval programme-eval report-bench kafka-start kafka-stop clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

## Run the monitor on the bundled sample (Python only, no services).
sample: install
	mkdir -p out
	$(BIN)/outcome-monitor replay streams/sample/events.jsonl.gz --demo-key \
	  --flags-out out/flags.jsonl --rejects-out out/rejects.jsonl --indicators-out out/indicators.json
	@echo "flags: out/flags.jsonl  rejects: out/rejects.jsonl  indicators: out/indicators.json"

## The whole local stack: Kafka, Prometheus (if installed), worker, live simulator. Ctrl-C stops it.
demo:
	bash scripts/system-deps.sh demo
	$(MAKE) --no-print-directory install
	$(BIN)/outcome-monitor up

## Lint, types, layering, schemas, then every test (starts the real services the tests need).
test:
	bash scripts/system-deps.sh test
	$(MAKE) --no-print-directory install
	bash scripts/test.sh

test-unit: install
	$(BIN)/python -m pytest -q tests/unit

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/outcome-monitor schemas --check

schemas: install
	$(BIN)/outcome-monitor schemas

## Benchmarks (not part of the tests): writes BENCHMARKS.md. Needs the local Kafka for the live part.
bench: install
	$(BIN)/python -m benchmarks
	$(BIN)/python -m benchmarks.org_scale_report

## 30 minutes of live simulator plus a backfill, the worker killed every 3 minutes (a benchmark, not a test).
soak: install
	bash scripts/system-deps.sh demo
	$(BIN)/python -m benchmarks.soak

drift-eval: install
	$(BIN)/python -m benchmarks.drift_eval --seeds 20

## The programme estimator over >= 50 seeds per setting of a randomly drawn scenario family: BENCHMARKS.md.
programme-eval: install
	$(BIN)/python -m benchmarks.programme_eval --seeds 200

## Three steering-group reports rendered from stored figures, against the < 5 s target: BENCHMARKS.md.
report-bench: install
	$(BIN)/python -m benchmarks.report_render

kafka-start:
	bash scripts/kafka.sh start

kafka-stop:
	bash scripts/kafka.sh stop

clean:
	rm -rf out .pytest_cache .mypy_cache .ruff_cache

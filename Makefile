# Quick start: `make demo` then `make test`. Everything installs into .venv.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_DB ?= data/marketplace.duckdb
DEMO_EVENTS ?= 1000000

.PHONY: install demo test test-fast lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,postgres,spark,service]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/metrics-layer demo --db $(DEMO_DB) --events $(DEMO_EVENTS)

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

LINT_PATHS := metrics_layer tests benchmarks

lint: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy metrics_layer

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) data .pytest_cache .hypothesis

# orderhub: `make demo` (simulate a day, run the pipeline, serve the UIs) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SERVE ?= 1
DEMO_DIR ?= demo
DEMO_ORDERS ?= 20000
DEMO_SEED ?= 7
DEMO_DATE ?=
PYTEST_ARGS ?=
# Test workers (pytest-xdist): the machines have 2 cores and most of the suite waits on dbt and Dagster
# subprocesses. A module's tests stay on one worker, so module fixtures (a simulated week) are built once. Modules
# go out in the collection's order (slow modules first: tests/conftest.py), not xdist's (most tests first).
TEST_WORKERS ?= 2
# A demo of another day than today runs on that day's clock (its end; now, if it is today): late risk,
# dispatch and "today" then show that day as it ended, not as it looks days later (docs/decisions.md).
DEMO_CLOCK := $(if $(DEMO_DATE),ORDERHUB_AS_OF=$(DEMO_DATE),)

export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DAGSTER_DISABLE_TELEMETRY := 1
export STREAMLIT_BROWSER_GATHER_USAGE_STATS := false

.PHONY: demo test lint install bench clean gateway

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the dependency list changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/orderhub simulate --out $(DEMO_DIR)/landing --orders $(DEMO_ORDERS) --seed $(DEMO_SEED) $(if $(DEMO_DATE),--date $(DEMO_DATE),)
	$(DEMO_CLOCK) DAGSTER_HOME=$(abspath $(DEMO_DIR))/dagster_home $(BIN)/orderhub run --full --landing $(DEMO_DIR)/landing --warehouse $(DEMO_DIR)/warehouse/orderhub.duckdb
ifeq ($(SERVE),1)
	$(DEMO_CLOCK) DAGSTER_HOME=$(abspath $(DEMO_DIR))/dagster_home $(BIN)/orderhub serve --landing $(DEMO_DIR)/landing --warehouse $(DEMO_DIR)/warehouse/orderhub.duckdb
endif

# The live intake: a redis-server of our own (unless one answers at ORDERHUB_REDIS_URL), the channel gateway on
# port 8600 and its worker, over the demo's landing zone (run `make demo` first for stores, products and stock).
# Credentials: ORDERHUB_GATEWAY_SECRETS, or a fresh development set written to $(DEMO_DIR)/redis.
GATEWAY_PORT ?= 8600
gateway: install
	$(BIN)/orderhub gateway up --landing $(DEMO_DIR)/landing --redis-dir $(DEMO_DIR)/redis --port $(GATEWAY_PORT)

test: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt_project/models dbt_project/macros dbt_project/tests

bench: install
	$(BIN)/python bench/ingest_throughput.py

clean:
	rm -rf $(DEMO_DIR) dbt_project/target dbt_project/logs .pytest_cache

# Two commands on a fresh clone: `make run` (set up, demo data, whole pipeline) and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DATA ?= $(CURDIR)/data
DEMO_SCALE ?= 0.02
DEMO_START ?= 2019-04
DEMO_END ?= 2025-03

export PROBATION_DATA_DIR ?= $(DATA)
export PROBATION_LANDING_DIR ?= $(DATA)/landing
DAGSTER_HOME ?= $(DATA)/dagster_home

.PHONY: setup run test ui docs demo-data dagster-home lint format benchmark quality-benchmark clean

$(BIN)/.installed: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
		{ echo "error: Python 3.11 is required (found $$($(PYTHON) --version))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

setup: $(BIN)/.installed

dagster-home:
	@mkdir -p "$(DAGSTER_HOME)"
	@cp dagster.yaml "$(DAGSTER_HOME)/dagster.yaml"

demo-data: setup
	@if [ -z "$$(ls -A "$(PROBATION_LANDING_DIR)/events" 2>/dev/null)" ]; then \
		$(BIN)/probation-pipeline demo-data --scale $(DEMO_SCALE) --start $(DEMO_START) \
			--end $(DEMO_END) --out "$(PROBATION_LANDING_DIR)"; \
	else echo "Demo landing data already in $(PROBATION_LANDING_DIR)"; fi

run: setup demo-data
	$(BIN)/probation-pipeline run

test: setup
	$(BIN)/ruff check .
	$(BIN)/pytest

ui: setup dagster-home
	DAGSTER_HOME="$(DAGSTER_HOME)" $(BIN)/dagster dev --host 127.0.0.1 --port 3000

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

benchmark: setup
	$(BIN)/python benchmarks/benchmark.py

quality-benchmark: setup
	$(BIN)/python benchmarks/quality_recall.py

clean:
	rm -rf "$(DATA)" dbt_project/target dbt_project/logs

docs: setup
	cd dbt_project && ../$(BIN)/dbt docs generate --profiles-dir . && \
		../$(BIN)/dbt docs serve --profiles-dir . --host 127.0.0.1 --port 8080

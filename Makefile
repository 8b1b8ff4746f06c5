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

.PHONY: setup system-packages manifest automation-on automation-off automation-status run test test-fast ui docs demo-data dagster-home lint defs-check format calendar-seed bench quality-benchmark clean

$(BIN)/.installed: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
		{ echo "error: Python 3.11 is required (found $$($(PYTHON) --version))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

setup: $(BIN)/.installed system-packages manifest

# The Dagster definitions read the dbt manifest and never run dbt themselves: parse the dbt
# project here when it changed.
manifest: $(BIN)/.installed
	@$(BIN)/python -c "from orchestration.warehouse.dbt_project import ensure_manifest; ensure_manifest()"

# System packages, installed here and never from inside a test: LibreOffice converts the
# workbook to ODS (without it editions get the XLSX only, and each run says how to get the ODS);
# Chromium renders the bulletin in its test; PostgreSQL serves the tested PostgreSQL deployment.
# Installed with apt-get when missing and this is root; otherwise a note says what is missing,
# and the tests that need it are skipped with that reason.
SYSTEM_PACKAGES = soffice:libreoffice-calc-nogui chromium:chromium initdb:postgresql
system-packages:
	@missing=""; for pair in $(SYSTEM_PACKAGES); do command="$${pair%%:*}"; package="$${pair#*:}"; \
		if command -v "$$command" >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/$$command >/dev/null 2>&1; \
		then :; else missing="$$missing $$package"; fi; done; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing$$missing (apt-get)"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $$missing >/dev/null; } || \
		echo "warning: could not install$$missing: editions without LibreOffice get the XLSX only; the tests needing the others are skipped"; \
	else \
		echo "note: missing$$missing (needs root to install: apt-get install$$missing): editions without LibreOffice get the XLSX only; the tests needing the others are skipped"; \
	fi

# The instance's settings: the project's dagster.yaml, unless the home already has its own.
dagster-home:
	@mkdir -p "$(DAGSTER_HOME)"
	@[ -f "$(DAGSTER_HOME)/dagster.yaml" ] || cp dagster.yaml "$(DAGSTER_HOME)/dagster.yaml"

demo-data: setup
	@if [ -z "$$(ls -A "$(PROBATION_LANDING_DIR)/events" 2>/dev/null)" ]; then \
		$(BIN)/probation-pipeline demo-data --scale $(DEMO_SCALE) --start $(DEMO_START) \
			--end $(DEMO_END) --out "$(PROBATION_LANDING_DIR)"; \
	else echo "Demo landing data already in $(PROBATION_LANDING_DIR)"; fi

run: setup demo-data
	$(BIN)/probation-pipeline run

# The documentation site built strictly (a broken link fails), then every tier (unit, pipeline,
# operations: pytest markers, tests/conftest.py) on two workers (the tests of one shared
# pipeline run kept together); test-fast runs the unit tier alone.
PYTEST_WORKERS ?= 2
# The tests' scratch folders go to memory (/dev/shm) when it has 8 GB free: the pipeline runs'
# DuckDB files and the Dagster instance's SQLite event log then skip the disk's fsyncs (a third
# of a run's time on these machines). Removed after a passing run, kept after a failing one.
PYTEST_BASETEMP ?= $(shell free=$$(df -Pk /dev/shm 2>/dev/null | awk 'NR==2 {print $$4}'); \
	[ "$${free:-0}" -gt 8000000 ] && [ -w /dev/shm ] && echo /dev/shm/probation-tests-$$(id -u))
test: setup docs-build
	$(BIN)/ruff check .
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup --durations=12 \
		$(if $(PYTEST_BASETEMP),--basetemp=$(PYTEST_BASETEMP))
	$(if $(PYTEST_BASETEMP),rm -rf $(PYTEST_BASETEMP))

test-fast: setup
	$(BIN)/ruff check .
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup -m unit

ui: setup dagster-home
	DAGSTER_HOME="$(DAGSTER_HOME)" $(BIN)/dagster dev --host 127.0.0.1 --port 3000

# The nightly schedule, the re-delivery sensor and alerting (failed runs, late data, a held
# edition; with the freshness checks that find late data), on or off, in the instance `make ui`
# shows (docs/operator.md, "Schedules and sensors", "Alerts"); the UI's Automation page does
# the same.
DAGSTER_CLI = DAGSTER_HOME="$(DAGSTER_HOME)" $(BIN)/dagster
AUTOMATION_SENSORS = redelivery_sensor run_failure_notifier edition_held_alert late_data_alert \
	freshness_checks_sensor
automation-on: setup dagster-home
	$(DAGSTER_CLI) schedule start nightly_schedule -m orchestration.definitions
	@for sensor in $(AUTOMATION_SENSORS); do \
		$(DAGSTER_CLI) sensor start $$sensor -m orchestration.definitions || exit 1; done

automation-off: setup dagster-home
	$(DAGSTER_CLI) schedule stop nightly_schedule -m orchestration.definitions
	@for sensor in $(AUTOMATION_SENSORS); do \
		$(DAGSTER_CLI) sensor stop $$sensor -m orchestration.definitions || exit 1; done

automation-status: setup dagster-home
	@$(DAGSTER_CLI) schedule list -m orchestration.definitions 2>/dev/null | grep -E '^(Schedule|Cron)'
	@$(DAGSTER_CLI) sensor list -m orchestration.definitions 2>/dev/null | grep -E '^Sensor'

# ruff, mypy (pyproject.toml), then sqlfluff over the dbt models' SQL (.sqlfluff: dbt's templater
# against an empty in-memory DuckDB, so no data folder or warehouse is needed). pre-commit runs
# the same checks.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/sqlfluff lint dbt_project/models

# dg (dagster-dg-cli, pyproject.toml's [tool.dg]) loads the definitions as the webserver and
# the daemon do and checks them, in about 10 s; `dg list defs` lists them. It opens the instance
# of `make ui`, as Dagster's commands do.
defs-check: setup dagster-home
	DAGSTER_HOME="$(DAGSTER_HOME)" $(BIN)/dg check defs

format: setup
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

# A developer's task: regenerate the business-day calendar seed from the `holidays` package (a
# unit test checks the shipped seed matches it).
calendar-seed: setup
	$(BIN)/python -m orchestration.business_calendar

# Scale 1.0, 15 months plus a sixteenth, against a floor and a pandas peer (docs/developer.md, "Benchmark").
# The generated landing data are cached in $(DATA)/bench; BENCH_ARGS passes options through.
bench: setup
	$(BIN)/python benchmarks/bench.py --cache "$(DATA)/bench" $(BENCH_ARGS)

quality-benchmark: setup
	$(BIN)/python benchmarks/quality_recall.py

# Everything the pipeline can build again, never a release: the published editions and their
# release log (<data>/published, or PROBATION_PUBLISHED_DIR elsewhere) stay. Removing them is a
# deliberate act by hand (docs/statistician.md, "The release trail").
DBT_ARTEFACTS ?= dbt_project/target dbt_project/logs
clean:
	@if [ -d "$(DATA)" ]; then \
		find "$(DATA)" -mindepth 1 -maxdepth 1 ! -name published -exec rm -rf {} +; \
		if [ -e "$(DATA)/published" ]; then \
			echo "Kept $(DATA)/published: released editions and their log are never removed by make"; \
		else rmdir "$(DATA)"; fi; \
	fi
	rm -rf $(DBT_ARTEFACTS)

# The documentation site (mkdocs.yml, pages in docs/; the reference pages are generated from the
# seeds, the contracts and the dbt manifest at build time). `docs` serves it on
# http://127.0.0.1:8000, rebuilding as pages change; `docs-build` builds it strictly (a warning,
# such as a broken link or anchor, is an error) into the data folder, never the source tree.
MKDOCS = NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs
docs: manifest
	$(MKDOCS) serve --dev-addr 127.0.0.1:8000

.PHONY: docs-build
docs-build: manifest
	$(MKDOCS) build --strict --site-dir "$(DATA)/site"

"""Shared fixtures: the hand-written fixture landing zone run once through the real pipeline."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from orchestration.demo import generate_landing, parse_defect
from orchestration.running.runner import run_pipeline
from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT, Settings
from orchestration.warehouse.dbt_project import dbt_executable
from tests.demo_scenario import BLOCKING, END, INJECTED, START

FIXTURES = Path(__file__).parent / "fixtures"


def pytest_configure(config):
    """Parse the dbt project (when changed) before any test loads the Dagster definitions,
    which only read its manifest."""
    from orchestration.warehouse.dbt_project import ensure_manifest

    ensure_manifest()


# The tiers (`make test-fast` runs the unit tier; `make test` all three):
# - unit: one module's behaviour, no pipeline run (dbt unit tests aside);
# - pipeline: whole or partial pipeline runs, in process, over fixture or demo months;
# - operations: the deployment as an operator runs it (dagster dev, kill -9, PostgreSQL,
#   an old DuckDB client, sensors and the failure notifier).
# A module names its tier with `pytestmark`; a test of an unmarked module that uses a shared
# pipeline run is in the pipeline tier, any other in the unit tier.
TIERS = ("unit", "pipeline", "operations")
PIPELINE_FIXTURES = {"fixture_run", "demo_run", "reviewed_demo", "warehouse"}


# `make test` runs the suite on two workers (pytest-xdist, `--dist loadgroup`): the tests that
# read the demo run go to one worker together, so that run is made once (a module whose tests
# share a module-scoped run names its own `xdist_group`).
SHARED_RUN_GROUPS = {"demo_run": "demo-run", "reviewed_demo": "demo-run"}


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    for item in items:
        tiers = [m.name for m in item.iter_markers() if m.name in TIERS]
        if len(tiers) > 1:
            raise pytest.UsageError(f"{item.nodeid}: in more than one tier ({tiers})")
        fixtures = set(getattr(item, "fixturenames", ()))
        if not tiers:
            item.add_marker("pipeline" if PIPELINE_FIXTURES & fixtures else "unit")
        groups = {SHARED_RUN_GROUPS[f] for f in fixtures if f in SHARED_RUN_GROUPS}
        if groups and not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(groups.pop()))


def pytest_collection_finish(session):
    """Under `--dist loadgroup`, pytest-xdist sends a group to one worker by adding `@<group>`
    to each node id. pytest 9.2 ignores the node id xdist 3.8 sets, and every group was split
    across the workers, each making the shared run again: stop here if that happens."""
    if getattr(session.config.option, "loadgroup", False):
        for item in session.items:
            if item.get_closest_marker("xdist_group") and "@" not in item.nodeid:
                raise pytest.UsageError(
                    f"{item.nodeid}: pytest-xdist could not group it (pytest "
                    f"{pytest.__version__}): install the versions in constraints.txt"
                )


@pytest.fixture(scope="session", autouse=True)
def dbt_target_path(tmp_path_factory):
    """The tests' own dbt commands (dbt show, dbt run) write their artefacts in a folder of the
    session, never in dbt_project/target, which the Dagster definitions read (and which
    another test worker may be reading)."""
    target = tmp_path_factory.mktemp("dbt_target")
    with environment("DBT_TARGET_PATH", target):
        yield target


FIXTURE_LANDING = FIXTURES / "landing"


@pytest.fixture(scope="session", autouse=True)
def dagster_home(tmp_path_factory):
    """One Dagster instance for every command-line run of the session (as an operator's runs
    share one): `probation-pipeline run` records into DAGSTER_HOME."""
    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    with environment("DAGSTER_HOME", home):
        yield home


@contextlib.contextmanager
def environment(name: str, value) -> Iterator[None]:
    """An environment variable set for the session, then put back as it was."""
    saved = os.environ.get(name)
    os.environ[name] = str(value)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = saved


@pytest.fixture(scope="session")
def fixture_run(tmp_path_factory):
    """Settings and summary of one in-process run over the three fixture months."""
    # paths with a space, quotes and accents: every test on this run proves they work
    root = tmp_path_factory.mktemp("fixture") / "O'Brien's \"files\" — é"
    data, landing = root / "dätä 'folder'", root / "landing zone"
    shutil.copytree(FIXTURE_LANDING, landing, dirs_exist_ok=True)
    settings = Settings.from_env(landing, data)
    summary = run_pipeline(settings, quiet=True, log_level="CRITICAL")
    assert summary.failures == [], summary.failures
    return settings, summary


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """Settings and summary of one run over the demo landing zone with injected defects (its
    unreviewed flags hold the edition 2022-03)."""
    root = tmp_path_factory.mktemp("quality")
    settings = Settings.from_env(root / "landing", root / "data")
    generate_landing(
        settings.landing_dir,
        start=START,
        end=END,
        scale=0.02,
        inject=[parse_defect(spec) for spec in INJECTED],
    )
    summary = run_pipeline(settings, quiet=True, log_level="CRITICAL")
    assert summary.failures == [], summary.failures
    return settings, summary


@pytest.fixture(scope="session")
def reviewed_demo(demo_run, tmp_path_factory):
    """A copy of the demo run whose statistician published every blocking flag but one, which
    was suppressed (contacts lost in London in October 2021), rerun: the edition 2022-03 is
    staged."""
    root = tmp_path_factory.mktemp("reviewed")
    shutil.copytree(demo_run[0].data_dir, root / "data")
    settings = Settings.from_env(demo_run[0].landing_dir, root / "data")
    rows = ["flag_id,decision,reason,reviewer,reviewed_on"]
    for flag in sorted(BLOCKING):
        if flag == "row_count:contacts:N07:2021-10":
            rows.append(f"{flag},suppress,Contacts lost in a migration,A Stat,2022-04-20")
        else:
            rows.append(f"{flag},publish,Checked with the region: figures stand,A Stat,2022-04-20")
    settings.reviews_path.write_text("\n".join(rows) + "\n")
    saved = os.environ.pop("PROBATION_REVIEWS_FILE", None)
    try:
        summary = run_pipeline(settings, quiet=True, log_level="CRITICAL")
    finally:
        if saved is not None:
            os.environ["PROBATION_REVIEWS_FILE"] = saved
    return settings, summary


@pytest.fixture(scope="session")
def chromium():
    """A headless Chromium for rendering the bulletin (installed by `make setup` when missing
    and this is root); otherwise the test is skipped, saying why."""
    names = ("chromium", "chromium-browser", "google-chrome")
    found = next((shutil.which(name) for name in names if shutil.which(name)), None)
    if found:
        return found
    pytest.skip(
        "Chromium is not installed: `make setup` installs it when run as root with apt-get "
        "(else apt-get install chromium)"
    )


@pytest.fixture
def warehouse(fixture_run):
    """A read-only connection to the fixture warehouse, closed after each test (DuckDB lets no
    process write while another holds the file open)."""
    settings, _ = fixture_run
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        yield con


@pytest.fixture
def landing_copy(tmp_path):
    """A private, writable copy of the fixture landing zone."""
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURE_LANDING, landing)
    return landing


def dbt_show(sql: str, data_dir: Path, limit: int = 500) -> list[dict]:
    """Rows of `dbt show --inline` (the project's real macros) against a data folder's warehouse."""
    result = dbt_show_process(sql, data_dir, limit)
    assert result.returncode == 0, result.stdout[-3000:]
    for line in result.stdout.splitlines():
        data = json.loads(line).get("data", {})
        if "preview" in data:
            return json.loads(data["preview"])
    raise AssertionError(f"dbt show printed no preview:\n{result.stdout[-3000:]}")


def dbt_show_process(sql: str, data_dir: Path, limit: int = 500) -> subprocess.CompletedProcess:
    """`dbt show --inline` run as it is, whatever its exit code (JSON log lines on stdout)."""
    return subprocess.run(
        [
            dbt_executable(),
            "show",
            "--inline",
            sql,
            "--limit",
            str(limit),
            "--output",
            "json",
            "--log-format",
            "json",
        ],
        cwd=DBT_PROJECT_DIR,
        env={
            **os.environ,
            "PROBATION_DATA_DIR": str(data_dir),
            "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        },
        capture_output=True,
        text=True,
        check=False,
    )

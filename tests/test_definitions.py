"""The code location as the UI shows it: assets, checks, jobs, schedules and sensors against a
committed snapshot (tests/snapshots/definitions.json; after a deliberate change, rewrite it with
`UPDATE_SNAPSHOT=1 pytest tests/test_definitions.py` and review the diff), and the rules every
asset keeps: owners, a description in words, groups that read left to right, the warehouse
pool on everything that opens warehouse.duckdb, and no work when the definitions load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from orchestration.running.runner import load_definitions

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"
GROUP_ORDER = [
    "ingest", "reference", "staging", "measures", "quality", "publication", "ratings",
    "edition", "analyst",
]  # fmt: skip
# Python assets and checks that open warehouse.duckdb (the dbt assets all do)
WAREHOUSE_READERS = [
    "publication_tables", "edition_files", "analyst_snapshot",
    "publication_tables:publication_respects_quality_gate",
    "edition_files:published_edition_is_valid",
]  # fmt: skip


@pytest.fixture(scope="module")
def defs():
    return load_definitions()


def _pool(definition) -> str | None:
    return getattr(definition.node_def, "pool", None)


def describe(defs: dg.Definitions) -> dict:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "owners": list(node.owners),
            "partitioned": node.partitions_def is not None,
            "pool": _pool(defs.resolve_assets_def(key)) if node.is_executable else None,
        }
    checks = sorted(
        f"{check.asset_key.to_user_string()}:{check.name}" for check in graph.asset_check_keys
    )
    jobs = {}
    for job in sorted(defs.resolve_all_job_defs(), key=lambda j: j.name):
        if job.name.startswith("__"):
            continue
        layer = job.asset_layer
        jobs[job.name] = {
            "executor": job.executor_def.name,
            "assets": len(layer.executable_asset_keys) if layer else 0,
            "checks": len(layer.asset_graph.asset_check_keys) if layer else 0,
            "partitioned": job.partitions_def is not None,
            "steps": sorted(job.graph.node_names()),  # no freshness check among them
        }
    return {
        "assets": assets,
        "checks": checks,
        "jobs": jobs,
        "schedules": {
            s.name: {"cron": s.cron_schedule, "default": s.default_status.value}
            for s in defs.schedules
        },
        "sensors": {s.name: s.default_status.value for s in defs.sensors},
    }


def test_definitions_match_the_committed_snapshot(defs):
    found = describe(defs)
    if os.environ.get("UPDATE_SNAPSHOT"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
    expected = json.loads(SNAPSHOT.read_text())
    for part in ("schedules", "sensors", "jobs", "checks", "assets"):
        assert found[part] == expected[part], f"{part} differ from {SNAPSHOT}"


def test_a_refresh_is_one_dbt_build(defs):
    """The quality flags are a dbt model, so nothing splits the dbt assets: every job that
    refreshes runs them as one step (one dbt invocation, one parse)."""
    for name in ("refresh_job", "nightly_job"):
        steps = defs.resolve_job_def(name).graph.node_names()
        assert [s for s in steps if s.startswith("warehouse_models")] == ["warehouse_models"]
    described = describe(defs)["assets"]
    assert described["data_quality_flags"]["group"] == "quality"
    assert "quality_flags" not in described


def test_every_asset_has_owners_and_a_description_in_words(defs):
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        name = key.to_user_string()
        assert node.owners, f"{name} has no owner"
        description = node.description or ""
        assert len(description) > 20, f"{name} has no description"
        assert "Raw SQL" not in description and "select " not in description.lower(), name


def test_groups_read_left_to_right(defs):
    graph = defs.resolve_asset_graph()
    rank = {group: i for i, group in enumerate(GROUP_ORDER)}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.group_name in rank, f"{key.to_user_string()}: group {node.group_name}"
        for parent in node.parent_keys:
            upstream = graph.get(parent).group_name
            assert rank[upstream] <= rank[node.group_name], (
                f"{parent.to_user_string()} ({upstream}) feeds {key.to_user_string()} "
                f"({node.group_name}): the groups would not read left to right"
            )


def test_everything_that_opens_the_warehouse_is_in_its_pool(defs):
    described = describe(defs)["assets"]
    for name in ("publication_tables", "edition_files", "analyst_snapshot"):
        assert described[name]["pool"] == "warehouse", name
    dbt_models = [n for n, a in described.items() if a["group"] in ("staging", "measures")]
    assert dbt_models and all(described[n]["pool"] == "warehouse" for n in dbt_models)
    for name in WAREHOUSE_READERS:
        if ":" in name:
            key = dg.AssetCheckKey.from_user_string(name)
            (checks_def,) = [
                d for d in defs.resolve_asset_graph().assets_defs if key in d.check_keys
            ]
            assert _pool(checks_def) == "warehouse", name


def test_the_definitions_load_without_running_dbt_or_anything_else():
    """Import and build the definitions, recording every process started: none may be (the
    only one is the standard library's `file -b <python>` probe, which Dagster's vendored
    croniter makes on import through platform.architecture)."""
    code = (
        "import subprocess, json\n"
        "started = []\n"
        "real = subprocess.Popen.__init__\n"
        "def spy(self, args, *a, **k):\n"
        "    started.append(args if isinstance(args, str) else list(map(str, args)))\n"
        "    return real(self, args, *a, **k)\n"
        "subprocess.Popen.__init__ = spy\n"
        "from orchestration.definitions import defs\n"
        "d = defs()\n"
        "print(json.dumps([len(list(d.resolve_asset_graph().get_all_asset_keys())), started]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assets, started = json.loads(result.stdout.strip().splitlines()[-1])
    assert assets > 100
    assert [c for c in started if c[:2] != ["file", "-b"]] == []

"""Every dbt model and seed says in its yml what one row is and tests that grain: a description,
and a `unique` test on one of its columns or a `unique_combination` test on it. Every column
declared in a yml under models/marts/ has a description (analysts read them as the comments of
the analyst snapshot and in the data dictionary).

Read from the parsed manifest; a model, seed or column that breaks a rule fails here, named."""

from __future__ import annotations

import json

import pytest

from orchestration.warehouse.dbt_project import ensure_manifest

pytestmark = pytest.mark.unit

GRAIN_TESTS = {"unique", "unique_combination"}


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(ensure_manifest().read_text())


def models_and_seeds(manifest: dict) -> dict[str, dict]:
    return {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed")
    }


def label(node: dict) -> str:
    return f"{node['resource_type']} {node['name']} ({node['original_file_path']})"


def yml_path(node: dict) -> str:
    """The yml the node's entry is in, relative to the dbt project ('' without one)."""
    return (node.get("patch_path") or "").split("://", 1)[-1]


def test_every_model_and_seed_has_a_description(manifest):
    missing = sorted(
        label(node)
        for node in models_and_seeds(manifest).values()
        if not (node.get("description") or "").strip()
    )
    assert missing == [], "no description in the dbt yml: " + "; ".join(missing)


def test_every_model_and_seed_has_a_grain_test(manifest):
    tested = {
        test["attached_node"]
        for test in manifest["nodes"].values()
        if test["resource_type"] == "test"
        and (test.get("test_metadata") or {}).get("name") in GRAIN_TESTS
        and test.get("attached_node")
        # `unique` tests one column; `unique_combination` the model itself
        and (test["test_metadata"]["name"] != "unique" or test.get("column_name"))
    }
    missing = sorted(
        label(node) for uid, node in models_and_seeds(manifest).items() if uid not in tested
    )
    assert missing == [], (
        "no grain test (`unique` on a column, or `unique_combination`) in the dbt yml: "
        + "; ".join(missing)
    )


def test_every_mart_column_in_the_yml_has_a_description(manifest):
    missing = sorted(
        f"{node['name']}.{name} ({yml_path(node)})"
        for node in models_and_seeds(manifest).values()
        if yml_path(node).startswith("models/marts/")
        for name, column in node.get("columns", {}).items()
        if not (column.get("description") or "").strip()
    )
    assert missing == [], "mart column without a description in the dbt yml: " + "; ".join(missing)


def test_the_rules_see_the_whole_project(manifest):
    """A guard on the three tests above: they read every model and seed, the marts among them."""
    nodes = models_and_seeds(manifest).values()
    assert sum(n["resource_type"] == "seed" for n in nodes) >= 10
    assert any(yml_path(n).startswith("models/marts/") and n["columns"] for n in nodes)
    assert {"stg_events", "int_measure_cases", "measure_monthly"} <= {n["name"] for n in nodes}

"""The published marts keep their shape: every SQL model under models/marts declares an enforced
dbt contract and the data type of every column, so dbt creates the table with those types and a
change to a mart's columns or types fails the build instead of reaching analysts.

dbt does not support contracts on Python models (data_quality_flags): they are left out here.
A SQL mart without the contract, or a column without a data_type, fails here, naming it."""

from __future__ import annotations

import json

import pytest

from orchestration.warehouse.dbt_project import ensure_manifest

pytestmark = pytest.mark.unit

MARTS = "models/marts/"


def sql_marts() -> dict[str, dict]:
    """The SQL models under models/marts, by name, from the parsed dbt manifest."""
    manifest = json.loads(ensure_manifest().read_text())
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["original_file_path"].startswith(MARTS)
        and node["language"] == "sql"
    }


def test_every_sql_mart_enforces_a_contract_with_a_type_on_every_column():
    marts = sql_marts()
    assert len(marts) >= 20, sorted(marts)  # measures, quality, publication, ratings, history
    offenders = []
    for name, node in sorted(marts.items()):
        if not node["config"].get("contract", {}).get("enforced"):
            offenders.append(f"{name}: no `config: {{contract: {{enforced: true}}}}`")
        if not node["columns"]:
            offenders.append(f"{name}: no columns in its yml")
        untyped = [c for c, column in node["columns"].items() if not column.get("data_type")]
        if untyped:
            offenders.append(f"{name}: no data_type on {', '.join(untyped)}")
    assert offenders == [], "SQL marts without a full contract:\n" + "\n".join(offenders)

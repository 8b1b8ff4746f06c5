"""Documentation generated from the dbt docs (the manifest), so a column is documented once, in
the yml beside its model.

- `data_dictionary`: the data dictionary of an edition's tidy files. Each published column names
  the mart column it comes from (`schemas/published.py`); its description is that column's
  description in the dbt project, with the column's own note on how it was derived.
- `model_docs`: each model's and seed's description and its columns' descriptions and units
  (`meta: {unit: ...}`), which the analyst snapshot writes as DuckDB comments, as its
  `dictionary` table and as Parquet field metadata.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from schemas.published import COUNT, DATE, NUMBER, PERCENT, TableSpec

TYPES = {COUNT: "integer", NUMBER: "decimal", PERCENT: "decimal", DATE: "date (YYYY-MM-DD)"}


def dbt_column_docs(manifest_path: Path) -> dict[str, str]:
    """{"model.column": description} for every documented column of every model and seed."""
    manifest = json.loads(manifest_path.read_text())
    docs = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] not in ("model", "seed"):
            continue
        for name, column in node.get("columns", {}).items():
            if column.get("description"):
                docs[f"{node['name']}.{name}"] = " ".join(column["description"].split())
    return docs


def model_docs(manifest_path: Path) -> dict[str, dict]:
    """{model: {"description": text, "columns": {column: {"description", "unit"}}}} for every
    model and seed of the manifest (empty text where the yml has none)."""
    manifest = json.loads(manifest_path.read_text())
    return {
        node["name"]: {
            "description": " ".join((node.get("description") or "").split()),
            "columns": {
                name: {
                    "description": " ".join((column.get("description") or "").split()),
                    "unit": (column.get("meta") or {}).get("unit"),
                }
                for name, column in node.get("columns", {}).items()
            },
        }
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "seed")
    }


def data_dictionary(specs: list[TableSpec], docs: dict[str, str]) -> pd.DataFrame:
    """One row per file and column: file, column, type, unit, description. A column whose
    source has no dbt description is an error: the dictionary never guesses."""
    rows, missing = [], []
    for spec in specs:
        for column in spec.columns:
            description = docs.get(column.source) if column.source else ""
            if description is None or not (description or column.note):
                missing.append(f"{spec.name}.{column.name} ({column.source})")
                continue
            symbol = (
                f" Empty where not published: {column.symbol_column} gives the reason."
                if column.symbol_column
                else f" Empty where not applicable ({column.empty_symbol} in the workbook)."
                if column.empty_symbol
                else ""
            )
            rows.append(
                {
                    "file": f"{spec.name}.csv",
                    "column": column.name,
                    "type": TYPES.get(column.kind, "text"),
                    "unit": column.unit or "none",
                    "description": " ".join(
                        part for part in (description, column.note, symbol.strip()) if part
                    ),
                }
            )
    if missing:
        raise ValueError("no dbt description for " + ", ".join(missing))
    return pd.DataFrame(rows)

"""The data dictionary of an edition's tidy files, generated from the dbt docs of the marts.

Each published column names the mart column it comes from (`schemas/published.py`); its
description here is that column's description in the dbt project (read from the manifest), with
the column's own note on how it was derived. So a column is documented once, in the marts' yml.
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

"""MkDocs hook: the reference pages, generated at build time and never written by hand.

- `reference/measures.md`: the measure catalogue and the seeds that configure measures and
  targets (`dbt_project/seeds/`), with each seed's column descriptions from its dbt yml;
- `reference/landing-contract.md`: every extract of `schemas/contracts.py`, its columns and the
  checks ingestion applies to them;
- `reference/columns.md`: every table of the analyst snapshot and its columns, from the dbt
  docs in the manifest (`dbt_project/target/manifest.json`, made by `make manifest`).

The pages are added in `on_files` with `File.generated`, so nothing lands in the source tree.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from mkdocs.structure.files import File

from orchestration.publication.dictionary import model_docs
from schemas.contracts import EXTRACTS, REFERENCE_EXTRACTS, sql_checks

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "dbt_project" / "seeds"
MANIFEST = ROOT / "dbt_project" / "target" / "manifest.json"

# The seeds shown on the measures page, in order, with the heading each gets.
MEASURE_SEEDS = {
    "measure_catalogue": "Measure catalogue",
    "initial_appointment_measures": "Initial appointment measures (SL004, SL005)",
    "checkpoint_measures": "Checkpoint measures (SL015A/B, SL016, SL017A/B)",
    "late_completed_fields": "Fields completed later",
    "targets": "Targets (illustrative)",
    "ratings/rating_measures": "Measures in the regional ratings",
}

# How each kind of extract is cut into files (schemas/contracts.py, `Extract.grain`).
GRAINS = {
    "snapshot": "Snapshot: a month's file holds every record active in the month and every "
    "record whose state changed during it.",
    "fact": "Fact: a month's file holds the records whose `{column}` falls in the month.",
    "reference": "Reference: one file, not monthly.",
}


def _cite(text: str) -> str:
    """Code comments and dbt descriptions cite the methodology ("docs/methodology.md#measures")
    and the source documents ("seed 001"): on these pages each becomes a link to it."""
    text = re.sub(
        r"docs/methodology\.md(#[a-z-]+)?",
        lambda m: f"[methodology](../methodology.md{m.group(1) or ''})",
        text,
    )
    return re.sub(r"\bseed (00\d)", r"[source \1](../methodology.md#sources)", text)


def _cell(value: object) -> str:
    return str(value if value is not None else "").replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _docs() -> dict[str, dict]:
    if not MANIFEST.exists():
        raise FileNotFoundError(f"{MANIFEST} is missing: run `make manifest` first")
    return model_docs(MANIFEST)


def measures_page(docs: dict[str, dict]) -> str:
    parts = [
        "# Measure catalogue and targets\n",
        "Generated from the dbt seeds in `dbt_project/seeds/` each time the site is built. "
        "How the measures are defined is in the [methodology](../methodology.md#measures).\n",
    ]
    for seed, heading in MEASURE_SEEDS.items():
        name = seed.rsplit("/", 1)[-1]
        with (SEEDS / f"{seed}.csv").open(newline="") as handle:
            rows = list(csv.reader(handle))
        seed_docs = docs.get(name, {"description": "", "columns": {}})
        columns = [
            [f"`{column}`", _cite(seed_docs["columns"].get(column, {}).get("description", ""))]
            for column in rows[0]
        ]
        parts += [
            f"## {heading}\n",
            f"Seed `{seed}.csv`. {_cite(seed_docs['description'])}\n",
            _table(rows[0], rows[1:]),
            f"Columns of `{name}`:\n",
            _table(["column", "description"], columns),
        ]
    return "\n".join(parts)


def contract_page() -> str:
    parts = [
        "# Landing contract: extracts and columns\n",
        "Generated from `schemas/contracts.py` each time the site is built. The rules of the "
        "landing zone are in the [methodology](../methodology.md#landing-contract). A breach "
        "of a column's checks rejects the whole file; a required column left empty, a "
        "repeated key or (for monthly facts) a date outside the file's month sets the row "
        "aside with its reason.\n",
    ]
    for extract in [*EXTRACTS.values(), *REFERENCE_EXTRACTS.values()]:
        checks: dict[str, list[str]] = {}
        for check in sql_checks(extract):
            checks.setdefault(check.column, []).append(check.error)
        parts += [
            f"## {extract.name}\n",
            f"{extract.description}\n",
            f"{GRAINS[extract.grain].format(column=extract.partition_column)} "
            f"Key: {', '.join(f'`{k}`' for k in extract.key)}.\n",
            _table(
                ["column", "type", "required", "checks"],
                [
                    [
                        f"`{c.name}`",
                        c.kind,
                        "yes" if c.required else "no (may be empty)",
                        "; ".join(checks.get(c.name, [])),
                    ]
                    for c in extract.columns
                ],
            ),
        ]
    return "\n".join(parts)


def columns_page(docs: dict[str, dict]) -> str:
    nodes = json.loads(MANIFEST.read_text())["nodes"].values()
    marts = sorted(
        n["name"] for n in nodes if n["resource_type"] == "model" and n["fqn"][1:2] == ["marts"]
    )
    parts = [
        "# Output columns\n",
        "Generated from the dbt documentation (through the manifest) each time the site is "
        "built. These are the tables of the analyst snapshot: every mart and the load ledger "
        "`stg_loads`. The same descriptions are the snapshot's column comments and its "
        "`dictionary` table ([analyst guide](../analyst.md)).\n",
    ]
    for table in [*marts, "stg_loads"]:
        model = docs[table]
        parts += [
            f"## {table}\n",
            f"{_cite(model['description'])}\n",
            _table(
                ["column", "unit", "description"],
                [
                    [f"`{name}`", column["unit"] or "", _cite(column["description"])]
                    for name, column in model["columns"].items()
                ],
            ),
        ]
    return "\n".join(parts)


def on_files(files, config):
    docs = _docs()
    pages = {
        "reference/measures.md": measures_page(docs),
        "reference/landing-contract.md": contract_page(),
        "reference/columns.md": columns_page(docs),
    }
    for path, content in pages.items():
        files.append(File.generated(config, path, content=content))
    return files

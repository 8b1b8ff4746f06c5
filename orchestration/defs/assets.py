"""Registers every asset and check of the code location."""

import dagster as dg

from orchestration.defs.ingest import ingest_month
from orchestration.defs.publication import (
    edition_files,
    publication_respects_quality_gate,
    publication_tables,
    published_edition_is_valid,
)
from orchestration.defs.snapshot import analyst_snapshot
from orchestration.defs.warehouse import warehouse_models


@dg.definitions
def assets() -> dg.Definitions:
    return dg.Definitions(
        assets=[
            ingest_month,
            warehouse_models,
            publication_tables,
            edition_files,
            analyst_snapshot,
        ],
        asset_checks=[publication_respects_quality_gate, published_edition_is_valid],
    )

"""Dagster definitions, one module per stage: ingest, warehouse (dbt), publication, snapshot,
automation (jobs, schedule, sensor) and resources."""

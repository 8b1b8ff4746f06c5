"""Probation performance pipeline: Dagster code location, command line and helpers.

Subpackages and modules:
- `defs/`: the Dagster definitions (assets, checks, jobs, schedules, sensors), loaded as a folder;
- `cli`: the `probation-pipeline` command;
- `demo/`: the synthetic landing-zone generator;
- the rest: plain helpers (settings, landing zone, ingestion, publication) with no Dagster state.
"""

"""Every data-quality flag raised from the data, with its review state: what the statistician
reviews before releasing an edition (`probation-pipeline flags` lists the same).

The rules are pandera checks (schemas/quality.py, thresholds in schemas/quality_thresholds.toml)
run by orchestration.warehouse.quality.compute_flags over:
- the partition profiles written at ingest (source quality.profiles: one row per extract,
  region and month), with each snapshot extract's vanished-record counts read from its raw
  files (sources raw.events and raw.requirements);
- the measure series of measure_monthly (rule measure_jump), whose baselines leave out the
  months of known_quality_periods.
The statistician's reviewed decisions (PROBATION_REVIEWS_FILE, else quality_reviews.csv in the
data folder; checked before dbt starts) give each flag its status: WARN until reviewed, then
SUPPRESS or OK (published). period_quality combines these flags per cell.

This is a model, not a step of its own, so a refresh is one dbt build.
"""

from orchestration.settings import Settings
from orchestration.warehouse.quality import (
    MEASURE_SERIES_COLUMNS,
    apply_reviews,
    compute_flags,
    flags_table,
    read_reviews,
    with_vanished_counts,
)


def model(dbt, session):
    dbt.config(materialized="table")
    settings = Settings.from_env()  # the data folder dbt builds (PROBATION_DATA_DIR)
    # the snapshot extracts' raw files give the vanished-record counts: declared for lineage
    dbt.source("raw", "events")
    dbt.source("raw", "requirements")
    profiles = dbt.source("quality", "profiles").to_arrow_table().to_pandas()
    measures = dbt.ref("measure_monthly").project(", ".join(MEASURE_SERIES_COLUMNS)).df()
    known = dbt.ref("known_quality_periods").project("period_start, period_end").df()
    flags = compute_flags(with_vanished_counts(settings, profiles), measures, known)
    return flags_table(apply_reviews(flags, read_reviews(settings.reviews_path)))

"""Great Expectations 1.x validation of what an edition publishes, run on the staged tidy files.

An ephemeral GX context (analytics off, no project folder) validates each published table and
a few derived frames that say in one column whether a rule holds:
- one row per key, keys filled in, percentages between 0 and 100, numerators never above
  denominators;
- England and Wales equal to the sum of the regions (regional quarterly), where every region
  is shown;
- no value inside a period `period_quality` suppresses (read from the warehouse, not from the
  tables);
- every `[c]` count really small, or hidden by secondary suppression or the disclosure audit;
- every note the workbook references exists in the notes seed.
The Data Docs (HTML) are written to `validation/` in the staged edition, with `result.json`:
the outcome and the digest of the staged content it validated, which the release checks.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from orchestration.atomic import building
from schemas.periods import quarter_labels

VALIDATION_DIR = "validation"
PERCENT_COLUMNS = ("performance_pct", "share_pct", "target_pct", "score_pct")
# The run time the Data Docs show when no publication date is given: a fixed, plainly
# placeholder date (with the run name "undated" beside it), not the wall clock.
UNDATED = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Check:
    """One frame to validate and the expectations on it."""

    name: str
    frame: pd.DataFrame
    expectations: list


def _expectations():
    import great_expectations.expectations as gxe

    return gxe


def table_checks(tables: dict[str, pd.DataFrame]) -> list[Check]:
    """Table by table: one row per key (schemas/published.py), keys filled in, percentages in
    range, numerators never above denominators."""
    from schemas.published import EDITION_TABLES

    gxe = _expectations()
    checks = []
    for name, table in tables.items():
        key = list(EDITION_TABLES[name].key)
        expectations = [gxe.ExpectCompoundColumnsToBeUnique(column_list=key)] + [
            gxe.ExpectColumnValuesToNotBeNull(column=column) for column in key
        ]
        for column in PERCENT_COLUMNS:
            if column in table:
                expectations.append(
                    gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0, max_value=100)
                )
        if {"numerator", "denominator"} <= set(table.columns):
            expectations.append(
                gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A="denominator",
                    column_B="numerator",
                    or_equal=True,
                    ignore_row_if="either_value_is_missing",
                )
            )
        checks.append(Check(name, table, expectations))
    return checks


def national_against_regions(regional: pd.DataFrame) -> pd.DataFrame:
    """Per measure and quarter where England and Wales and all 12 regions are shown: the
    England and Wales numerator and denominator minus the regions' sums."""
    shown = regional.dropna(subset=["numerator", "denominator"])
    regions = shown[shown["geography_level"].eq("REGION")]
    sums = regions.groupby(["measure_code", "period"]).agg(
        numerator=("numerator", "sum"),
        denominator=("denominator", "sum"),
        regions=("geography_code", "nunique"),
    )
    national = shown[shown["geography_level"].eq("NATIONAL")].set_index(["measure_code", "period"])[
        ["numerator", "denominator"]
    ]
    joined = national.join(sums, rsuffix="_regions", how="inner")
    joined = joined[joined["regions"].eq(12)]
    return pd.DataFrame(
        {
            "measure_code": joined.index.get_level_values(0),
            "period": joined.index.get_level_values(1),
            "numerator_difference": (joined["numerator"] - joined["numerator_regions"]).to_numpy(
                dtype=float
            ),
            "denominator_difference": (
                joined["denominator"] - joined["denominator_regions"]
            ).to_numpy(dtype=float),
        }
    )


def values_in_suppressed_periods(tables, quality: pd.DataFrame) -> pd.DataFrame:
    """Cells of the national and regional tables in a period period_quality suppresses, with
    what they publish."""
    q = quality[quality["subject_type"].eq("MEASURE") & quality["status"].eq("SUPPRESS")]
    month = pd.to_datetime(q["month"])
    monthly = set(zip(q["subject"], q["geography_code"], month.dt.strftime("%Y-%m"), strict=True))
    quarterly = set(
        zip(
            q["subject"],
            q["geography_code"],
            quarter_labels(month),
            strict=True,
        )
    )
    frames = []
    for name, keys in (("national_monthly", monthly), ("regional_quarterly", quarterly)):
        table = tables[name]
        inside = [
            (m, g, p) in keys
            for m, g, p in zip(
                table["measure_code"], table["geography_code"], table["period"], strict=True
            )
        ]
        frames.append(
            table.loc[
                inside,
                [
                    "measure_code",
                    "geography_code",
                    "period",
                    "numerator",
                    "denominator",
                    "performance_pct",
                ],
            ].assign(table=name)  # fmt: skip
        )
    return pd.concat(frames, ignore_index=True)


def confidential_cells(tables, disclosure: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Every [c] count of the circumstances tables with whether it is justified: a count of 1
    to threshold - 1, or one hidden by secondary suppression or the audit."""
    frames = []
    for name in ("accommodation", "employment"):
        table = tables[name]
        hidden = table[table["count_shorthand"].eq("[c]")]
        truth = disclosure[disclosure["topic"].eq(name.upper())]
        keys = ["checkpoint", "breakdown", "group_code", "status_code", "period"]
        truth = truth.rename(
            columns={
                "breakdown_value": "group_code",
                "category": "status_code",
                "people": "true_people",
            }
        )
        merged = hidden[keys].merge(
            truth[[*keys, "true_people", "suppression"]], on=keys, how="left"
        )
        small = merged["true_people"].between(1, threshold - 1)
        justified = small | merged["suppression"].isin(["secondary", "audit"])
        frames.append(
            merged[["checkpoint", "breakdown", "group_code", "status_code", "period"]].assign(
                table=name, justified=justified.astype(bool)
            )
        )
    return pd.concat(frames, ignore_index=True)


def note_references(notes: dict[str, list[str]], known: set[str]) -> pd.DataFrame:
    rows = [(table, key, key in known) for table, keys in notes.items() for key in keys]
    return pd.DataFrame(rows, columns=["table", "note_key", "exists"])


def rule_checks(tables, quality, disclosure, threshold, notes, known_notes) -> list[Check]:
    gxe = _expectations()
    differences = national_against_regions(tables["regional_quarterly"])
    return [
        Check(
            "national_equals_sum_of_regions",
            differences,
            [
                gxe.ExpectColumnValuesToBeBetween(
                    column="numerator_difference", min_value=0, max_value=0
                ),
                gxe.ExpectColumnValuesToBeBetween(
                    column="denominator_difference", min_value=0, max_value=0
                ),
            ],
        ),
        Check(
            "no_value_in_suppressed_periods",
            values_in_suppressed_periods(tables, quality),
            [
                gxe.ExpectColumnValuesToBeNull(column=column)
                for column in ("numerator", "denominator", "performance_pct")
            ],
        ),
        Check(
            "confidential_cells_are_justified",
            confidential_cells(tables, disclosure, threshold),
            [gxe.ExpectColumnValuesToBeInSet(column="justified", value_set=[True])],
        ),
        Check(
            "every_note_referenced_exists",
            note_references(notes, known_notes),
            [gxe.ExpectColumnValuesToBeInSet(column="exists", value_set=[True])],
        ),
    ]


def run_identity(run_time: date | datetime | None = None) -> tuple[str, datetime]:
    """The GX run name and run time (UTC) the Data Docs show: "publication" and midnight UTC of
    the date given (a datetime as given, in UTC; a naive one is taken as UTC, not as the
    machine's local time as GX would), or, without one, "undated" and UNDATED - never the
    wall clock, so that the same checks give the same Data Docs on any day."""
    if run_time is None:
        return "undated", UNDATED
    if not isinstance(run_time, datetime):
        return "publication", datetime(run_time.year, run_time.month, run_time.day, tzinfo=UTC)
    if run_time.tzinfo is None:
        return "publication", run_time.replace(tzinfo=UTC)
    return "publication", run_time.astimezone(UTC)


def _without_clock(result, run_id):
    """The validation result as the Data Docs render it (from the store), with no time but the
    run's: the batch's load time (BatchMarkers.ge_load_time, the wall clock when the frame was
    read) is the run time, and the run id is stored with its time in UTC (GX stores it in the
    machine's local time zone and the page prints that as if it were UTC)."""
    stamp = run_id.to_tuple()[1]  # GX's own form, e.g. 20250508T000000.000000Z
    if "ge_load_time" in (result.meta.get("batch_markers") or {}):
        result.meta["batch_markers"]["ge_load_time"] = stamp
    result.meta["run_id"] = {"run_name": run_id.run_name, "run_time": run_id.run_time.isoformat()}
    return result


def run_checks(
    checks: list[Check], docs_dir: Path, run_time: date | datetime | None = None
) -> dict:
    """Validate every check with an ephemeral GX context, write the Data Docs to docs_dir;
    return {"success", "checks": [{name, success, failed: [...]}]}.

    The Data Docs are the same bytes for the same checks and run_time (the edition's
    publication date; see run_identity): the run id is fixed, the batches' load time is
    recorded as the run time and the pages are rendered by
    orchestration/publication/data_docs.py."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig

    from orchestration.publication.data_docs import site_config

    run_name, fixed_time = run_identity(run_time)
    run_id = RunIdentifier(run_name=run_name, run_time=fixed_time)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.add_data_docs_site(site_name="edition", site_config=site_config(str(docs_dir)))
    source = context.data_sources.add_pandas("published")
    outcome: dict[str, Any] = {"success": True, "checks": []}
    for check in checks:
        batch = source.add_dataframe_asset(check.name).add_batch_definition_whole_dataframe("whole")
        suite = context.suites.add(gx.ExpectationSuite(name=check.name))
        for expectation in check.expectations:
            suite.add_expectation(expectation)
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=check.name, data=batch, suite=suite)
        )
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name=check.name,
                validation_definitions=[definition],
                actions=[],
                result_format={"result_format": "SUMMARY"},
            )
        )
        result = checkpoint.run(batch_parameters={"dataframe": check.frame}, run_id=run_id)
        failed = []
        for key, run in result.run_results.items():
            context.validation_results_store.set(key, _without_clock(run, run_id))
            for item in run.results:
                if not item.success:
                    config = item.expectation_config
                    column = config.kwargs.get("column") or config.kwargs.get("column_A", "")
                    failed.append(
                        f"{check.name}: {config.type} {column}: "
                        f"{item.result.get('unexpected_count', '?')} unexpected "
                        f"(e.g. {item.result.get('partial_unexpected_list', [])[:3]})"
                    )
        outcome["checks"].append(
            {"name": check.name, "rows": len(check.frame), "success": not failed, "failed": failed}
        )
        outcome["success"] &= not failed
    context.build_data_docs(site_names=["edition"])  # once, for every validation result
    return outcome


def validate_edition(
    folder: Path, checks: list[Check], digest: str, run_time: date | datetime | None = None
) -> dict:
    """Run the checks and swap in `folder/validation/` (Data Docs and result.json); run_time
    as for run_checks."""
    with building(folder / VALIDATION_DIR, versioned=False) as tmp:
        tmp.mkdir()
        outcome = run_checks(checks, tmp / "data_docs", run_time)
        write_result(folder, outcome, digest, tmp)
    return outcome


def write_result(folder: Path, outcome: dict, digest: str, into: Path | None = None) -> None:
    """The outcome, with the digest of the staged content it validated, as
    `folder/validation/result.json` (or `into/result.json`)."""
    target = into or folder / VALIDATION_DIR
    target.mkdir(parents=True, exist_ok=True)
    outcome["content_digest"] = digest
    (target / "result.json").write_text(json.dumps(outcome, indent=2, default=str))


def read_result(folder: Path) -> dict | None:
    path = folder / VALIDATION_DIR / "result.json"
    return json.loads(path.read_text()) if path.exists() else None

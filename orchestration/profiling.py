"""The quality profile of one extract-month: what was delivered for each region, as figures.

`load_partition` sees every delivered row, including the rows the row rules set aside, so it
profiles the file there and writes `<data>/raw/profiles/<extract>_<YYYY-MM>.parquet`: one row
for every one of the 12 regions (zeros for a region with no rows, so a missing region is
explicit). An extract without a region column (`persons`) cannot be split by region: its
profile is one row for England and Wales (`region_code` K04000001). The data-quality rules in
`schemas/quality.py` run over these profiles.

Columns (`PROFILE_COLUMNS`):
- `rows_delivered`, `rows_loaded`: rows in the file and rows kept after the row rules;
- `distinct_keys`: distinct keys among the delivered rows with a complete key;
- `duplicate_key_rows`, `null_required_rows`, `outside_partition_rows`: rows set aside by each
  row rule (first rule broken wins, as in the quarantine). For snapshot extracts, whose rows have
  no partition date, `outside_partition_rows` counts loaded rows whose start date
  (`SNAPSHOT_START_COLUMNS`) falls after the month: a record cannot be active before it starts;
- `null_counts`: JSON object, nulls per required column among the delivered rows;
- `in_person_share`: contacts only, the share of loaded contacts in person (OFFICE or
  HOME_VISIT); null for other extracts and for a region without contacts;
- `measure_values`: measure_returns only, JSON object `{measure_code: [numerator, denominator]}`
  of the loaded rows; null for other extracts.

Rows whose region code is empty cannot be placed in a region: they are counted in the load
ledger (as `null_required:region_code`) but in no region's profile.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa

from orchestration.settings import NATIONAL_CODE
from schemas.contracts import REGION_CODES, Extract
from schemas.row_rules import DUPLICATE_KEY, NULL_REQUIRED, OUTSIDE_PARTITION

IN_PERSON_MODES = ("OFFICE", "HOME_VISIT")
# Snapshot extracts: the date before which a record cannot be active.
SNAPSHOT_START_COLUMNS = {"events": "start_date", "requirements": "sentence_date"}

PROFILE_SCHEMA = pa.schema(
    [
        pa.field("extract", pa.string()),
        pa.field("month", pa.string()),
        pa.field("region_code", pa.string()),
        pa.field("rows_delivered", pa.int64()),
        pa.field("rows_loaded", pa.int64()),
        pa.field("distinct_keys", pa.int64()),
        pa.field("duplicate_key_rows", pa.int64()),
        pa.field("null_required_rows", pa.int64()),
        pa.field("outside_partition_rows", pa.int64()),
        pa.field("null_counts", pa.string()),
        pa.field("in_person_share", pa.float64()),
        pa.field("measure_values", pa.string()),
    ]
)
PROFILE_COLUMNS = tuple(PROFILE_SCHEMA.names)
COUNT_COLUMNS = (
    "rows_delivered",
    "rows_loaded",
    "distinct_keys",
    "duplicate_key_rows",
    "null_required_rows",
    "outside_partition_rows",
)


def geographies(extract: Extract) -> tuple[str, ...]:
    """The rows of an extract's profile: the 12 regions, or England and Wales for an extract
    without a region column."""
    return REGION_CODES if "region_code" in extract.column_names else (NATIONAL_CODE,)


def _by_region(mask: pd.Series | np.ndarray, regions: pd.Series) -> pd.Series:
    """How many rows in `mask` each geography has (0 for one without any), in the order of
    `regions`' categories."""
    counts = regions[np.asarray(mask, dtype=bool)].value_counts(sort=False)
    return counts.reindex(regions.cat.categories, fill_value=0).astype("int64")


def _month_end(month: str) -> str:
    return (pd.Period(month, "M").end_time.date()).isoformat()


def profile_partition(
    frame: pd.DataFrame, reasons: pd.Series, extract: Extract, month: str
) -> pd.DataFrame:
    """The profile of one delivered file: one row per region, in REGION_CODES order.

    `frame` is the file as text columns (contract order, delivered order), `reasons` the row
    rules' verdict per row ('' = kept, else `rule:column`), `month` is `YYYY-MM`.
    """
    codes = list(geographies(extract))
    if "region_code" in frame.columns:
        regions = pd.Series(pd.Categorical(frame["region_code"], categories=codes), frame.index)
    else:
        regions = pd.Series(pd.Categorical([codes[0]] * len(frame), categories=codes), frame.index)
    kept = reasons.eq("").to_numpy()
    rule = reasons.str.split(":", n=1).str[0]
    out = pd.DataFrame({"region_code": codes})
    out.insert(0, "month", month)
    out.insert(0, "extract", extract.name)
    out["rows_delivered"] = _by_region(regions.notna(), regions).to_numpy()
    out["rows_loaded"] = _by_region(kept, regions).to_numpy()

    key = list(extract.key)
    complete = frame[key].notna().all(axis=1)
    first_of_key = complete & ~frame[key].duplicated(keep="first")
    out["distinct_keys"] = _by_region(first_of_key, regions).to_numpy()
    out["duplicate_key_rows"] = _by_region(rule.eq(DUPLICATE_KEY), regions).to_numpy()
    out["null_required_rows"] = _by_region(rule.eq(NULL_REQUIRED), regions).to_numpy()

    outside = rule.eq(OUTSIDE_PARTITION)
    start_column = SNAPSHOT_START_COLUMNS.get(extract.name)
    if extract.grain == "snapshot" and start_column:
        outside = outside | (kept & frame[start_column].gt(_month_end(month)).fillna(False))
    out["outside_partition_rows"] = _by_region(outside, regions).to_numpy()

    nulls = pd.DataFrame(
        {c: _by_region(frame[c].isna(), regions) for c in extract.required_columns}
    )
    out["null_counts"] = [
        json.dumps({c: int(n) for c, n in row.items()}, sort_keys=True)
        for row in nulls.to_dict("records")
    ]

    out["in_person_share"] = np.nan
    if extract.name == "contacts":
        in_person = _by_region(kept & frame["mode"].isin(IN_PERSON_MODES), regions).to_numpy()
        loaded = out["rows_loaded"].to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            out["in_person_share"] = np.where(loaded > 0, in_person / loaded, np.nan)

    out["measure_values"] = None
    if extract.name == "measure_returns":
        rows = frame.loc[kept, ["region_code", "measure_code", "numerator", "denominator"]]
        values = {code: {} for code in codes}
        for r in rows.itertuples(index=False):
            values[r.region_code][r.measure_code] = [int(r.numerator), int(r.denominator)]
        out["measure_values"] = [json.dumps(values[c], sort_keys=True) for c in codes]
    return out[list(PROFILE_COLUMNS)]


def profile_table(profile: pd.DataFrame) -> pa.Table:
    """The profile as an Arrow table with the fixed PROFILE_SCHEMA."""
    return pa.Table.from_pandas(
        profile[list(PROFILE_COLUMNS)], schema=PROFILE_SCHEMA, preserve_index=False
    )

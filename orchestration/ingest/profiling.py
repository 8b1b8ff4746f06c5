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


def _month_end(month: str) -> str:
    return (pd.Period(month, "M").end_time.date()).isoformat()


def _quoted(name: str) -> str:
    return f'"{name}"'


def profile_partition(
    con, extract: Extract, month: str, relation: str = "judged", keys_repeat: bool = True
) -> pd.DataFrame:
    """The profile of one delivered file: one row per region, in REGION_CODES order.

    `relation` in the DuckDB connection `con` holds the file as text (contract columns), `_line`
    and `_reason` (the row rules' verdict: '' = kept, else `rule:column`); `month` is `YYYY-MM`;
    `keys_repeat` False says no key is delivered twice (each complete key is then distinct).
    """
    codes = list(geographies(extract))
    geography = "region_code" if "region_code" in extract.column_names else f"'{codes[0]}'"
    key = [_quoted(c) for c in extract.key]
    complete = " and ".join(f"{c} is not null" for c in key)
    outside = f"_rule = '{OUTSIDE_PARTITION}'"
    start_column = SNAPSHOT_START_COLUMNS.get(extract.name)
    if extract.grain == "snapshot" and start_column:
        # a record cannot be active before it starts (ISO dates compare as text)
        later = f"{_quoted(start_column)} > '{_month_end(month)}'"
        outside += f" or (_kept and coalesce({later}, false))"
    first = (
        f"row_number() over (partition by {', '.join(key)} order by _line) = 1"
        if keys_repeat
        else "true"
    )
    in_person = ", ".join(f"'{m}'" for m in IN_PERSON_MODES)
    extras = (
        f"count(*) filter (where _kept and mode in ({in_person})) as in_person_rows"
        if extract.name == "contacts"
        else "0 as in_person_rows"
    )
    nulls = ", ".join(
        f"count(*) filter (where _line is not null and {_quoted(c)} is null) "
        f"as {_quoted('null:' + c)}"
        for c in extract.required_columns
    )
    geographies_sql = ", ".join(f"('{code}', {i})" for i, code in enumerate(codes))
    figures = con.execute(
        f"""
        with rows as (
            select {geography} as _geography, *,
                split_part(_reason, ':', 1) as _rule,
                _reason = '' as _kept,
                ({complete}) and {first} as _first_of_key
            from {relation}
        ),
        geographies(_geography, _order) as (values {geographies_sql})
        select g._geography as region_code,
            count(r._line) as rows_delivered,
            count(*) filter (where _kept) as rows_loaded,
            count(*) filter (where _first_of_key) as distinct_keys,
            count(*) filter (where _rule = '{DUPLICATE_KEY}') as duplicate_key_rows,
            count(*) filter (where _rule = '{NULL_REQUIRED}') as null_required_rows,
            count(*) filter (where {outside}) as outside_partition_rows,
            {extras}{", " + nulls if nulls else ""}
        from geographies g left join rows r using (_geography)
        group by g._geography, g._order
        order by g._order
        """
    ).df()
    out = figures[["region_code"]].copy()
    out.insert(0, "month", month)
    out.insert(0, "extract", extract.name)
    for column in COUNT_COLUMNS:
        out[column] = figures[column].astype("int64")
    out["null_counts"] = [
        json.dumps({c: int(row[f"null:{c}"]) for c in extract.required_columns}, sort_keys=True)
        for _, row in figures.iterrows()
    ]
    out["in_person_share"] = np.nan
    if extract.name == "contacts":
        loaded = out["rows_loaded"].to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            out["in_person_share"] = np.where(
                loaded > 0, figures["in_person_rows"].to_numpy() / loaded, np.nan
            )
    out["measure_values"] = None
    if extract.name == "measure_returns":
        values: dict[str, dict[str, object]] = {code: {} for code in codes}
        rows = con.execute(
            f"select region_code, measure_code, numerator, denominator from {relation} "
            "where _reason = '' order by _line"
        ).fetchall()
        for region, measure, numerator, denominator in rows:
            values[region][measure] = [int(numerator), int(denominator)]
        out["measure_values"] = [json.dumps(values[c], sort_keys=True) for c in codes]
    return out[list(PROFILE_COLUMNS)]


def profile_table(profile: pd.DataFrame) -> pa.Table:
    """The profile as an Arrow table with the fixed PROFILE_SCHEMA."""
    return pa.Table.from_pandas(
        profile[list(PROFILE_COLUMNS)], schema=PROFILE_SCHEMA, preserve_index=False
    )

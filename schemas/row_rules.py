"""Row rules: well-formed but implausible rows are set aside with a reason, never dropped silently.

A row that passes the contract can still be implausible: a null in a required field, a key
delivered twice in one file, or (for fact extracts) a date that places it outside the file's
month. Such rows are kept out of the raw tables, written to the quarantine with the rule they
broke, and counted in the partition's quality profile.
"""

from __future__ import annotations

import pandas as pd

from schemas.contracts import Extract

NULL_REQUIRED = "null_required"
DUPLICATE_KEY = "duplicate_key"
OUTSIDE_PARTITION = "outside_partition"
RULES = (NULL_REQUIRED, DUPLICATE_KEY, OUTSIDE_PARTITION)


def month_of(values: pd.Series, kind: str) -> pd.Series:
    """`YYYY-MM` of a text column of ISO dates (kind `date`) or months (kind `month`)."""
    return values.str.slice(0, 7) if kind in ("date", "month") else values


def set_aside_reasons(frame: pd.DataFrame, extract: Extract, month: str) -> pd.Series:
    """One reason per row ('' for a row that is kept), first rule broken wins.

    `frame` holds the file as text columns, in delivered order; `month` is `YYYY-MM`.
    """
    reasons = pd.Series("", index=frame.index, dtype="object")

    for column in extract.required_columns:
        hit = frame[column].isna() & (reasons == "")
        reasons[hit] = f"{NULL_REQUIRED}:{column}"

    if extract.partition_column:
        kind = extract.column(extract.partition_column).kind
        outside = month_of(frame[extract.partition_column], kind) != month
        hit = outside & frame[extract.partition_column].notna() & (reasons == "")
        reasons[hit] = f"{OUTSIDE_PARTITION}:{extract.partition_column}"

    key = list(extract.key)
    eligible = reasons == ""
    repeated = frame[eligible].duplicated(subset=key, keep="first")
    reasons[repeated[repeated].index] = f"{DUPLICATE_KEY}:{'+'.join(key)}"
    return reasons

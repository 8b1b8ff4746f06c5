"""Contracts of the published tables: what every tidy table in an edition must look like.

Published cells are text: a number, or one of the Analysis Function shorthand symbols
(`[x]` suppressed or not available, `[z]` not applicable, `[c]` confidential small count).
No cell is ever blank. Publication validates every table against these schemas before it is
written anywhere.
"""

from __future__ import annotations

import pandera.pandas as pa

SHORTHAND = {
    "[x]": "Not available: suppressed because the data are of poor quality.",
    "[z]": "Not applicable: the measure was not valid for publication, or there were no cases.",
    "[c]": "Confidential: a small count suppressed to protect individuals.",
    "[p]": "Provisional: the figure can still be revised by a later delivery.",
}
STATUSES = ("published", "provisional", "suppressed", "not applicable")

COUNT_CELL = r"^(\d+|\[x\]|\[z\]|\[c\])$"
PERCENT_CELL = r"^(\d{1,3}\.\d|\[x\]|\[z\]|\[c\])$"


def _text(pattern: str | None = None, isin=None) -> pa.Column:
    checks = [pa.Check.str_length(min_value=1)]
    if pattern:
        checks.append(pa.Check.str_matches(pattern))
    if isin:
        checks.append(pa.Check.isin(list(isin)))
    return pa.Column(str, checks=checks, nullable=False)


def _measure_table(name: str, period_pattern: str) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "measure_code": _text(r"^[A-Z][A-Z0-9_]*$"),
            "measure_name": _text(),
            "geography_level": _text(isin=("NATIONAL", "REGION")),
            "geography_code": _text(r"^(K04000001|N\d{2})$"),
            "geography_name": _text(),
            "period": _text(period_pattern),
            "numerator": _text(COUNT_CELL),
            "denominator": _text(COUNT_CELL),
            "performance_pct": _text(PERCENT_CELL),
            "status": _text(isin=STATUSES),
            "notes": _text(),
        },
        strict=True,
        ordered=True,
        unique=["measure_code", "geography_code", "period"],
        name=name,
    )


NATIONAL_MONTHLY = _measure_table("national_monthly", r"^\d{4}-\d{2}$")
REGIONAL_QUARTERLY = _measure_table("regional_quarterly", r"^\d{4} Q[1-4]$")

PUBLISHED_TABLES = {"national_monthly": NATIONAL_MONTHLY, "regional_quarterly": REGIONAL_QUARTERLY}

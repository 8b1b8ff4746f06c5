"""Row rules: well-formed but implausible rows are set aside with a reason, never dropped silently.

A row that passes the contract can still be implausible: a null in a required field, a key
delivered twice in one file, or (for fact extracts) a date that places it outside the file's
month. Such rows are kept out of the raw tables, written to the quarantine with the rule they
broke, and counted in the partition's quality profile.

The rules are written here once, as DuckDB SQL over the file read as text (one row per data
row, `_line` its line in the file): `reason_sql` gives each row its reason, '' for a row that
is kept; the first rule broken wins, in the order null_required (columns in contract order),
outside_partition, duplicate_key (the first row of a key is kept).
"""

from __future__ import annotations

from schemas.contracts import Extract

NULL_REQUIRED = "null_required"
DUPLICATE_KEY = "duplicate_key"
OUTSIDE_PARTITION = "outside_partition"
RULES = (NULL_REQUIRED, DUPLICATE_KEY, OUTSIDE_PARTITION)


def _quoted(name: str) -> str:
    return f'"{name}"'


def repeated_key_sql(extract: Extract, relation: str) -> str:
    """A query that is true when some key is delivered more than once in `relation` (without
    one, no row can be a duplicate and `reason_sql` can skip ranking the rows)."""
    key = ", ".join(map(_quoted, extract.key))
    return f"select exists (select 1 from {relation} group by {key} having count(*) > 1)"


def reason_sql(extract: Extract, month: str | None, relation: str, keys_repeat: bool = True) -> str:
    """A query over `relation` (the file as text plus `_line`) adding `_reason` to every row.

    `month` is the file's `YYYY-MM` (None for a reference extract, which has no partition);
    `keys_repeat` False (see `repeated_key_sql`) says no key is delivered twice.
    """
    whens = [
        f"when {_quoted(c)} is null then '{NULL_REQUIRED}:{c}'" for c in extract.required_columns
    ]
    if extract.partition_column and month:
        column = _quoted(extract.partition_column)
        # `YYYY-MM` of an ISO date (kind date) or of a month (kind month): its first 7 characters
        whens.append(
            f"when {column} is not null and substr({column}, 1, 7) <> '{month}' "
            f"then '{OUTSIDE_PARTITION}:{extract.partition_column}'"
        )
    first_rules = f"case {' '.join(whens)} else '' end" if whens else "''"
    if not keys_repeat:
        return f"select *, {first_rules} as _reason from {relation}"
    key = ", ".join(map(_quoted, extract.key))
    duplicate = f"{DUPLICATE_KEY}:{'+'.join(extract.key)}"
    return f"""
        with judged as (select *, {first_rules} as _first_reason from {relation})
        select * exclude (_first_reason),
            case
                when _first_reason <> '' then _first_reason
                when row_number() over (
                    partition by _first_reason = '', {key} order by _line
                ) > 1 then '{duplicate}'
                else ''
            end as _reason
        from judged
    """

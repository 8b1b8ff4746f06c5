"""Quality flags from the data (docs/methodology.md#quality-periods-and-the-publication-gate):
profiles and measures in, reviewed flags out.

- `months_checks` / `partition_checks`: the extract rules for the months of an extract a load
  wrote (or one month), each against the earlier months' profiles on disk, in one pass (the
  ingest assets' `quality_rules` check);
- `vanished_counts`: for the snapshot extracts with terminations, how many records open in a
  month's raw file are missing from the next month's (rule vanished_records);
- `compute_flags`: the rules over the whole history, from the partition profiles, the
  measure series and the known periods; the dbt Python model `data_quality_flags` calls it
  with its dbt sources and refs, inside the one dbt build of a refresh (`flags_from_files`
  does the same from the files on disk, for the quality benchmark);
- `read_reviews` / `apply_reviews`: the statistician's reviewed decisions (CSV at
  `Settings.reviews_path`, validated by `schemas.quality.REVIEWS_SCHEMA`) joined to the flags;
- `flags_table`: the reviewed flags with the fixed `FLAGS_SCHEMA` (what the model returns);
  `read_flags`: the last good refresh's flags, from the analyst snapshot.

A flag's status is WARN until reviewed, SUPPRESS when the decision is `suppress`, and OK when
it is `publish` (the reviewer's reason is kept in `reason`, which period_quality shows).
The rules themselves, and their thresholds, live in `schemas/quality.py`.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.csv_text import read_csv_text
from orchestration.ingest.profiling import PROFILE_COLUMNS
from orchestration.settings import Settings
from schemas import quality as rules
from schemas.contracts import EXTRACTS

PROFILE_FILE = re.compile(r"^(?P<extract>[a-z_]+)_(?P<month>\d{4}-\d{2})\.parquet$")
REVIEW_STATE_COLUMNS = ("status", "decision", "review_reason", "reviewer", "reviewed_on", "reason")
FLAGS_SCHEMA = pa.schema(
    [
        pa.field("flag_id", pa.string()),
        pa.field("subject_type", pa.string()),
        pa.field("subject", pa.string()),
        pa.field("geography_code", pa.string()),
        pa.field("month", pa.date32()),
        pa.field("rule", pa.string()),
        pa.field("detail", pa.string()),
        pa.field("status", pa.string()),
        pa.field("decision", pa.string()),
        pa.field("review_reason", pa.string()),
        pa.field("reviewer", pa.string()),
        pa.field("reviewed_on", pa.date32()),
        pa.field("reason", pa.string()),
    ]
)


def profiles_dir(settings: Settings) -> Path:
    return settings.raw_dir / "profiles"


def read_profiles(
    settings: Settings,
    extract: str | None = None,
    first: str | None = None,
    last: str | None = None,
) -> pd.DataFrame:
    """The profiles on disk (of one extract, or all; of months first..last inclusive, or all),
    one row per extract, region and month."""
    folder = profiles_dir(settings)
    files = sorted(
        str(p)
        for p in (folder.iterdir() if folder.is_dir() else [])
        if (m := PROFILE_FILE.match(p.name))
        and (extract is None or m["extract"] == extract)
        and (first is None or m["month"] >= first)
        and (last is None or m["month"] <= last)
    )
    if not files:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in PROFILE_COLUMNS})
    table = pq.ParquetDataset(files).read() if len(files) > 1 else pq.read_table(files[0])
    return table.to_pandas()[list(PROFILE_COLUMNS)]


# --------------------------------------------------------------------------- at ingest
@dataclass
class CheckOutcome:
    """One rule's verdict on one extract-month, for the ingest asset's asset check."""

    rule: str
    passed: bool
    description: str
    regions: list[str] = field(default_factory=list)
    details: dict[str, str] = field(default_factory=dict)
    figures: dict[str, float | int | None] = field(default_factory=dict)


def rules_for(extract: str) -> tuple[str, ...]:
    """The extract rules that apply to an extract (in_person_share: contacts only)."""
    return tuple(r for r in rules.EXTRACT_RULES if extract in rules.RULE_APPLIES.get(r, (extract,)))


def partition_checks(
    settings: Settings, extract: str, month: str, thresholds: dict | None = None
) -> list[CheckOutcome]:
    """Each rule's verdict on the extract-month just loaded, against the earlier months'
    profiles on disk (months loaded later than this one are not history)."""
    return months_checks(settings, extract, [month], thresholds)[month]


def months_checks(
    settings: Settings, extract: str, months: list[str], thresholds: dict | None = None
) -> dict[str, list[CheckOutcome]]:
    """Each rule's verdict on each of `months` of an extract, in one pass of the rules over
    the profiles on disk. A month's verdict reads only the months before it (trailing windows),
    so judging several months at once gives each the verdict it gets alone, as long as the
    months after it are not history for it; they are not."""
    thresholds = thresholds or rules.load_thresholds()
    months = sorted(months)
    profiles = read_profiles(
        settings, extract, first=_history_start(months[0], thresholds), last=months[-1]
    )
    profiles = with_vanished_counts(settings, profiles, extract, months)
    enriched = rules.enrich_profiles(profiles, thresholds)
    current = enriched[enriched["month"].isin(months)].reset_index(drop=True)
    failed = rules.failing_rows(rules.profile_schema(thresholds), current) if len(current) else {}
    return {month: _outcomes(extract, month, current, failed, thresholds) for month in months}


def _outcomes(
    extract: str, month: str, judged: pd.DataFrame, failed: dict[str, pd.Index], thresholds: dict
) -> list[CheckOutcome]:
    """The outcomes of one month, from the rules' failing rows over several months."""
    in_month = judged["month"] == month
    current = judged[in_month]
    outcomes = []
    for rule in rules_for(extract):
        index = failed.get(rule, pd.Index([]))
        rows = judged.loc[index[in_month.loc[index].to_numpy()]] if len(index) else current[:0]
        details = {r.region_code: rules.DETAILS[rule](r, thresholds) for r in rows.itertuples()}
        history = int(current["history_months"].max()) if len(current) else 0
        if details:
            description = f"{len(details)} region(s) flagged for {extract} {month}: " + "; ".join(
                f"{k}: {v}" for k, v in details.items()
            )
        elif rule in (rules.ROW_COUNT, rules.REGION_MISSING, rules.IN_PERSON_SHARE) and (
            history < thresholds["history"]["min_months"]
        ):
            description = (
                f"Not enough history yet ({history} earlier month(s) loaded, "
                f"{thresholds['history']['min_months']} needed): nothing flagged."
            )
        else:
            description = f"No region flagged. {rules.RULES[rule]}"
        outcomes.append(
            CheckOutcome(
                rule=rule,
                passed=not details,
                description=description[:2000],
                regions=sorted(details),
                details=details,
                figures=_figures(rule, current.reset_index(drop=True)),
            )
        )
    return outcomes


VANISHED_COLUMNS = ("open_keys_before", "vanished_keys")


def vanished_counts(
    settings: Settings, extract: str, months: list[str] | None = None
) -> pd.DataFrame:
    """For each month M+1 whose previous month M is loaded too (only those in `months` when
    given) and each region: records not terminated in M's raw file (`open_keys_before`, by
    their region there) and how many of them M+1's file lacks (`vanished_keys`).
    docs/methodology.md#landing-contract:
    such a record has vanished. A record M+1 delivered but a row rule set aside (its
    quarantine) has not vanished: its own rule flags it."""
    columns = ["extract", "month", "region_code", *VANISHED_COLUMNS]
    folder = settings.raw_dir / extract
    if not any(folder.glob("*.parquet")):
        return pd.DataFrame(columns=columns)
    key = EXTRACTS[extract].key[0]
    only = "" if months is None else "where next_month in (select unnest($months))"
    quarantine = settings.quarantine_dir / extract
    set_aside_files = sorted(quarantine.glob("*.parquet"))
    if months is not None:
        wanted = {f"{extract}_{m}.parquet" for m in months}
        set_aside_files = [p for p in set_aside_files if p.name in wanted]
    set_aside = (
        f"union select {key}, _month from read_parquet($quarantine, union_by_name = true) "
        f"where {key} is not null"
        if set_aside_files
        else ""
    )
    sql = f"""
        with loaded as (
            select {key} as k, region_code, _month as month, termination_date
            from read_parquet($glob, union_by_name = true)
        ),
        present as (
            select k, month from loaded
            {set_aside}
        ),
        months as (
            select distinct month,
                strftime(strptime(month || '-01', '%Y-%m-%d') + interval 1 month, '%Y-%m')
                    as next_month
            from loaded
        ),
        pairs as (
            select m.month, m.next_month from months as m
            inner join (select distinct month from loaded) as n on n.month = m.next_month
            {only}
        ),
        open_before as (
            select l.k, l.region_code, p.next_month
            from loaded as l inner join pairs as p on p.month = l.month
            where l.termination_date is null
        )
        select '{extract}' as extract, o.next_month as month, o.region_code,
            count(*) as open_keys_before, count(*) filter (where n.k is null) as vanished_keys
        from open_before as o
        left join present as n on n.k = o.k and n.month = o.next_month
        group by all
    """
    files = [str(folder / "*.parquet")]
    if months is not None:  # only M-1 and M can matter: read those files, not every month
        needed = sorted({m for month in months for m in (_previous(month), month)})
        files = [str(folder / f"{extract}_{m}.parquet") for m in needed]
        files = [f for f in files if Path(f).exists()]
        if len(files) < 2:
            return pd.DataFrame(columns=columns)
    params = {"glob": files}
    if set_aside:
        params["quarantine"] = [str(p) for p in set_aside_files]
    if months is not None:
        params["months"] = list(months)
    with duckdb.connect() as con:
        return con.execute(sql, params).df()[columns]


def _previous(month: str) -> str:
    return (pd.Period(month, "M") - 1).strftime("%Y-%m")


def with_vanished_counts(
    settings: Settings,
    profiles: pd.DataFrame,
    extract: str | None = None,
    months: list[str] | None = None,
) -> pd.DataFrame:
    """Profiles with the vanished_records counts (0 where they do not apply); of `months` only,
    when given."""
    extracts = [e for e in rules.RULE_APPLIES[rules.VANISHED_RECORDS] if extract in (None, e)]
    counts = [vanished_counts(settings, e, months) for e in extracts]
    counts = [c for c in counts if len(c)]
    if not counts or profiles.empty:
        return profiles.assign(**{c: 0 for c in VANISHED_COLUMNS})
    merged = profiles.merge(
        pd.concat(counts, ignore_index=True), on=["extract", "month", "region_code"], how="left"
    )
    for column in VANISHED_COLUMNS:
        merged[column] = merged[column].fillna(0).astype("int64")
    return merged


def _history_start(month: str, thresholds: dict) -> str:
    """The first month whose profile can matter to `month`'s verdict: the dispersion window
    before it, and the trailing-median window before each of those months."""
    back = int(thresholds["history"]["months"]) + int(thresholds["row_count"]["dispersion_months"])
    return (pd.Period(month, "M") - back).strftime("%Y-%m")


def _figures(rule: str, current: pd.DataFrame) -> dict[str, float | int | None]:
    """Totals over the 12 regions that a rule looks at, for the check's metadata."""
    if current.empty:
        return {}
    total = int(current["rows_delivered"].sum())
    column = {
        rules.DUPLICATE_KEYS: "duplicate_key_rows",
        rules.NULL_REQUIRED: "null_required_rows",
        rules.OUTSIDE_PARTITION: "outside_partition_rows",
    }.get(rule)
    if column:
        return {"rows_delivered": total, column: int(current[column].sum())}
    if rule == rules.REGION_MISSING:
        return {"regions_without_rows": int((current["rows_loaded"] == 0).sum())}
    if rule == rules.VANISHED_RECORDS:
        return {
            "open_keys_before": int(current["open_keys_before"].sum()),
            "vanished_keys": int(current["vanished_keys"].sum()),
        }
    if rule == rules.IN_PERSON_SHARE:
        loaded = current["rows_loaded"]
        share = (current["in_person_share"].fillna(0) * loaded).sum() / max(int(loaded.sum()), 1)
        return {"contacts_loaded": int(loaded.sum()), "in_person_share": round(float(share), 4)}
    median = current["median_rows"].sum(min_count=1)
    return {
        "rows_loaded": int(current["rows_loaded"].sum()),
        "trailing_median_rows_sum": None if pd.isna(median) else round(float(median), 1),
    }


# --------------------------------------------------------------------------- whole history
MEASURE_SERIES_COLUMNS = (
    "measure_code",
    "geography_code",
    "month",
    "numerator",
    "denominator",
    "provisional",
)


def known_period_months(known: pd.DataFrame, months: pd.Series) -> pd.Series:
    """Whether each month lies in a known poor-quality period (`known`: the seed
    known_quality_periods' period_start and period_end: COVID, unification). Such months are
    judged like any other but are no baseline for later months, so recovery after them is not
    mistaken for a jump."""
    month = pd.to_datetime(months)
    inside = pd.Series(False, index=months.index)
    for period in known.itertuples():
        start, end = pd.Timestamp(period.period_start), pd.Timestamp(period.period_end)
        inside |= (month <= end) & (month + pd.offsets.MonthEnd(0) >= start)
    return inside


def compute_flags(
    profiles: pd.DataFrame,
    measures: pd.DataFrame,
    known_periods: pd.DataFrame,
    thresholds: dict | None = None,
) -> pd.DataFrame:
    """Every flag over the whole history: the extract rules on the partition profiles (with
    their vanished_records counts), measure_jump on measure_monthly's series (whose baselines
    leave out the known poor-quality periods). Columns `schemas.quality.FLAG_COLUMNS`, sorted by
    flag_id. The dbt model data_quality_flags calls this with its sources."""
    thresholds = thresholds or rules.load_thresholds()
    parts = [rules.extract_flags(rules.enrich_profiles(profiles, thresholds), thresholds)]
    if len(measures):
        measures = measures[list(MEASURE_SERIES_COLUMNS)].copy()
        measures["month"] = pd.to_datetime(measures["month"])
        measures["exclude_from_history"] = known_period_months(known_periods, measures["month"])
        parts.append(rules.measure_flags(rules.enrich_measures(measures, thresholds), thresholds))
    flags = pd.concat([p for p in parts if len(p)] or [rules.empty_flags()], ignore_index=True)
    return flags.sort_values("flag_id").reset_index(drop=True)


def flags_from_files(settings: Settings, thresholds: dict | None = None) -> pd.DataFrame:
    """compute_flags over what is on disk outside dbt (the quality benchmark's path): every
    profile under `<data>/raw/profiles/` with its vanished counts, and measure_monthly and the
    known periods from the warehouse when it has been built (read only, closed at once)."""
    measures = pd.DataFrame(columns=list(MEASURE_SERIES_COLUMNS))
    known = pd.DataFrame(columns=["period_start", "period_end"])
    if settings.warehouse_path.exists():
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            with contextlib.suppress(duckdb.CatalogException):
                columns = ", ".join(MEASURE_SERIES_COLUMNS)
                measures = con.execute(f"select {columns} from measure_monthly").df()
            with contextlib.suppress(duckdb.CatalogException):
                known = con.execute(
                    "select period_start, period_end from known_quality_periods"
                ).df()
    profiles = with_vanished_counts(settings, read_profiles(settings))
    return compute_flags(profiles, measures, known, thresholds)


# --------------------------------------------------------------------------- reviews
def read_reviews(path: Path) -> pd.DataFrame:
    """The reviewed-decisions CSV (flag_id, decision, reason, reviewer, reviewed_on), checked;
    a missing file means no reviews. Raises ReviewFileError naming file, line and rule."""
    columns = list(rules.REVIEW_COLUMNS)
    if not path.exists():
        return pd.DataFrame({c: pd.Series(dtype="string") for c in columns})
    frame = read_csv_text(path, rules.ReviewFileError)
    return rules.validate_reviews(frame, path)


def review_label(decision, reviewer, reviewed_on) -> str:
    """'unreviewed', or e.g. 'publish (J Smith, 2025-04-02)'."""
    if decision is None or pd.isna(decision):
        return "unreviewed"
    day = pd.Timestamp(reviewed_on).strftime("%Y-%m-%d")
    return f"{decision} ({reviewer}, {day})"


def apply_reviews(flags: pd.DataFrame, reviews: pd.DataFrame) -> pd.DataFrame:
    """Flags with their review (decision, review_reason, reviewer, reviewed_on), effective
    status (WARN unreviewed, SUPPRESS, OK once published) and a readable `reason`."""
    chosen = reviews.rename(columns={"reason": "review_reason"})[
        ["flag_id", "decision", "review_reason", "reviewer", "reviewed_on"]
    ].astype(object)
    out = flags.drop(columns=[c for c in REVIEW_STATE_COLUMNS if c in flags.columns])
    out = out.merge(chosen, on="flag_id", how="left")
    out["reviewed_on"] = pd.to_datetime(out["reviewed_on"], format="%Y-%m-%d")
    decision = out["decision"]
    out["status"] = "WARN"
    out.loc[decision.eq("suppress").fillna(False).astype(bool), "status"] = "SUPPRESS"
    out.loc[decision.eq("publish").fillna(False).astype(bool), "status"] = "OK"
    out["reason"] = (
        [_reason(r) for r in out.itertuples(index=False)] if len(out) else pd.Series(dtype="object")
    )
    for column in ("decision", "review_reason", "reviewer"):
        out[column] = out[column].where(out[column].notna(), None)
    return out


def _reason(r) -> str:
    where = f"{r.subject} {r.geography_code} {pd.Timestamp(r.month):%Y-%m}"
    text = f"{r.rule} {where}: {r.detail}"
    if r.status == "WARN":
        return f"{text} [flag {r.flag_id}: not yet reviewed]"
    verb = "suppressed" if r.status == "SUPPRESS" else "published"
    day = pd.Timestamp(r.reviewed_on).strftime("%Y-%m-%d")
    return f"{text} [flag {r.flag_id}: {verb} by {r.reviewer} on {day}: {r.review_reason}]"


def flags_table(flags: pd.DataFrame) -> pa.Table:
    """The reviewed flags as an Arrow table with the fixed `FLAGS_SCHEMA` (dates as dates),
    even when there are none: what the dbt model data_quality_flags returns."""
    frame = flags.reindex(columns=FLAGS_SCHEMA.names).copy()
    for column in ("month", "reviewed_on"):
        frame[column] = pd.to_datetime(frame[column]).dt.date
    frame = frame.astype(object).where(frame.notna(), None)
    return pa.Table.from_pandas(frame, schema=FLAGS_SCHEMA, preserve_index=False)


def read_flags(settings: Settings) -> pd.DataFrame:
    """The flags of the last good refresh (FLAGS_SCHEMA columns), from the analyst snapshot's
    data_quality_flags (never the warehouse, which a run may be writing);
    FileNotFoundError before any run."""
    path = settings.analytics_path
    if not path.exists():
        raise FileNotFoundError(f"{path}: no quality flags yet (run the pipeline first)")
    columns = ", ".join(FLAGS_SCHEMA.names)
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"select {columns} from data_quality_flags order by flag_id").df()

"""Data defects for the demo landing zone: built-in 2021 unification defects and fault injection.

A defect names one extract and month and one region (or every region, `*`) and damages that
region's rows at write time, in the month's first delivery and its re-deliveries alike;
nothing else in the landing zone changes. Row kinds (`apply_defect`):
- `drop_rows`: drop `share` of the rows;
- `duplicate_rows`: repeat `share` of the rows exactly (same keys), next to the originals;
- `shift_dates`: move the extract's date (`ExtractLayout.date_column`) of `share` of the rows
  to the same day of the following month, i.e. outside the file's month;
- `drop_region`: remove every row of the region;
- `null_spike`: empty a required non-key column (`ExtractLayout.null_spike_column`) in `share`
  of the rows.
Kinds that reach beyond one file's rows (applied by the writer):
- `vanished_record` (events or requirements): `share` (at least one) of the records that were
  in the previous month's file, not terminated there, and are in this month's file silently
  vanish from this month's file and every later one (`vanished_keys`, `drop_keys`);
- `truncated_transfer` (region `*`): the control file describes the complete file, but the
  data file keeps only the header and the first half of its rows (the newest delivery of the
  month); needs control files;
- `missing_month` (region `*`): no file, control file or re-delivery for that extract-month.
`UNIFICATION_DEFECTS` is the table of what went wrong in April to June 2021 when the CRCs were
absorbed into the Probation Service; the same machinery applies it.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

import numpy as np

from orchestration.demo import extracts as X
from orchestration.demo.simulate import INT_NULL, NAT, month_index, month_label, month_start

ROW_DEFECTS = ("drop_rows", "duplicate_rows", "shift_dates", "drop_region", "null_spike")
FILE_DEFECTS = ("truncated_transfer", "missing_month")  # a whole delivery; region '*'
DEFECT_KINDS = (*ROW_DEFECTS, "vanished_record", *FILE_DEFECTS)
VANISHING_EXTRACTS = ("events", "requirements")
DEFAULT_SHARES = {
    "drop_rows": 0.4,
    "duplicate_rows": 0.05,
    "shift_dates": 0.1,
    "drop_region": 1.0,
    "null_spike": 0.3,
    "vanished_record": 0.01,
    "truncated_transfer": 1.0,
    "missing_month": 1.0,
}
WHOLE_FILE_KINDS = ("drop_region", *FILE_DEFECTS)  # share ignored (1.0)
ALL_REGIONS = "*"
_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class DefectSpec:
    """One defect: kind, extract, region code (None = every region), month `YYYY-MM`, share.

    share is the fraction of the region's rows affected (0 < share <= 1); None takes the kind's
    default from DEFAULT_SHARES; it is ignored (1.0) for drop_region, truncated_transfer and
    missing_month. For vanished_record it is the fraction of the candidate records (records
    open in the previous month's file and present in this month's) that vanish.
    """

    kind: str
    extract: str
    region: str | None
    month: str
    share: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in DEFECT_KINDS:
            raise ValueError(
                f"unknown defect kind {self.kind!r}: expected one of {', '.join(DEFECT_KINDS)}"
            )
        if self.extract not in X.LAYOUTS:
            raise ValueError(
                f"unknown extract {self.extract!r}: expected one of {', '.join(X.LAYOUTS)}"
            )
        regions = X.load_reference().regions
        if self.region == ALL_REGIONS:
            object.__setattr__(self, "region", None)
        if self.region is not None and self.region not in regions:
            raise ValueError(
                f"unknown region {self.region!r}: expected one of {', '.join(regions)} or '*'"
            )
        if self.region is None and self.kind == "drop_region":
            raise ValueError("drop_region needs a region code, not '*'")
        if self.region is not None and self.kind in FILE_DEFECTS:
            raise ValueError(f"{self.kind} needs region '*': it affects the whole file")
        if self.kind == "vanished_record" and self.extract not in VANISHING_EXTRACTS:
            raise ValueError(
                f"vanished_record does not apply to {self.extract}: only to "
                f"{' or '.join(VANISHING_EXTRACTS)}"
            )
        if not isinstance(self.month, str) or not _MONTH_RE.match(self.month):
            raise ValueError(f"bad month {self.month!r}: expected YYYY-MM")
        if self.kind == "shift_dates" and X.LAYOUTS[self.extract].date_column is None:
            raise ValueError(f"shift_dates does not apply to {self.extract}: it has no date")
        share = DEFAULT_SHARES[self.kind] if self.share is None else self.share
        if self.kind in WHOLE_FILE_KINDS:
            share = 1.0
        try:
            share = float(share)
        except (TypeError, ValueError):
            raise ValueError(f"bad share {self.share!r}: expected a number in (0, 1]") from None
        if not 0.0 < share <= 1.0:
            raise ValueError(f"bad share {self.share!r}: expected a number in (0, 1]")
        object.__setattr__(self, "share", share)

    @property
    def label(self) -> str:
        """The spec in `parse_defect` syntax (stable: it also seeds the defect's random choice)."""
        return f"{self.kind}:{self.extract}:{self.region or ALL_REGIONS}:{self.month}:{self.share}"


def parse_defect(text: str) -> DefectSpec:
    """'kind:extract:region:YYYY-MM[:share]' -> DefectSpec (region '*' = every region).

    Example: `parse_defect("drop_rows:contacts:N07:2022-03:0.4")`. Raises ValueError naming
    what is wrong.
    """
    parts = [p.strip() for p in str(text).split(":")]
    if len(parts) not in (4, 5) or not all(parts):
        raise ValueError(
            f"bad defect {text!r}: expected kind:extract:region:YYYY-MM[:share], "
            f"e.g. drop_rows:contacts:N07:2022-03:0.4"
        )
    share: float | None = None
    if len(parts) == 5:
        try:
            share = float(parts[4])
        except ValueError:
            raise ValueError(f"bad defect {text!r}: share {parts[4]!r} is not a number") from None
    try:
        return DefectSpec(parts[0], parts[1], parts[2], parts[3], share)
    except ValueError as error:
        raise ValueError(f"bad defect {text!r}: {error}") from None


# What went wrong in April-June 2021 (CRC unification): genuine, and detectable by data checks.
UNIFICATION_DEFECTS: tuple[tuple[DefectSpec, str], ...] = (
    (
        DefectSpec("duplicate_rows", "contacts", "N07", "2021-04", 0.04),
        "London contacts delivered twice for part of the CRC case load during migration",
    ),
    (
        DefectSpec("drop_rows", "contacts", "N56", "2021-05", 0.45),
        "East of England: former CRC contacts not yet migrated to the unified case system",
    ),
    (
        DefectSpec("drop_region", "accommodation_checks", "N54", "2021-05"),
        "North East accommodation checks missing from the May extract",
    ),
    (
        DefectSpec("drop_rows", "sentence_plans", "N55", "2021-05", 0.85),
        "Yorkshire and the Humber sentence plans largely not recorded (measure collapse)",
    ),
    (
        DefectSpec("drop_rows", "contacts", "N52", "2021-06", 0.35),
        "West Midlands contacts partly lost in the cut-over week",
    ),
    (
        DefectSpec("shift_dates", "contacts", None, "2021-06", 0.03),
        "June extract carries contacts dated in July (extract cut after go-live on 26 June)",
    ),
)


def _region_rows(frame: dict[str, np.ndarray], spec: DefectSpec) -> np.ndarray:
    if spec.region is None:
        return np.arange(len(frame["_region"]))
    code = X.load_reference().regions.index(spec.region)
    return np.flatnonzero(frame["_region"] == code)


def _take(frame: dict[str, np.ndarray], idx: np.ndarray) -> dict[str, np.ndarray]:
    return {k: v[idx] for k, v in frame.items()}


def _null(values: np.ndarray) -> object:
    if values.dtype.kind == "M":
        return NAT
    if values.dtype.kind in "iu":
        return INT_NULL
    return ""


def _rng(seed: int, spec: DefectSpec) -> np.random.Generator:
    return np.random.default_rng([int(seed), 77, zlib.crc32(spec.label.encode("utf-8"))])


def apply_defect(
    frame: dict[str, np.ndarray], spec: DefectSpec, seed: int
) -> tuple[dict[str, np.ndarray], int]:
    """Apply one defect to a month's rows (dict of column arrays with `_region`).

    Returns the damaged rows and how many rows were affected. The rows picked depend only on
    the seed and the spec, so the same arguments give the same file.
    """
    if spec.kind not in ROW_DEFECTS:
        raise ValueError(f"{spec.kind} is not a row defect: the writer applies it")
    rows = _region_rows(frame, spec)
    if rows.size == 0:
        return frame, 0
    layout = X.LAYOUTS[spec.extract]
    rng = _rng(seed, spec)
    if spec.kind == "drop_region":
        picked = rows
    else:
        assert spec.share is not None  # always a number after __post_init__
        k = min(rows.size, max(1, int(round(spec.share * rows.size))))
        picked = np.sort(rng.choice(rows, size=k, replace=False))
    n = len(frame["_region"])
    if spec.kind in ("drop_rows", "drop_region"):
        keep = np.ones(n, dtype=bool)
        keep[picked] = False
        return _take(frame, np.flatnonzero(keep)), int(picked.size)
    if spec.kind == "duplicate_rows":
        order = np.sort(np.concatenate([np.arange(n), picked]), kind="stable")
        return _take(frame, order), int(picked.size)
    out = {k: v.copy() for k, v in frame.items()}
    if spec.kind == "shift_dates":
        column = layout.date_column
        assert column is not None  # __post_init__ refuses shift_dates without a date
        next_month = month_index(spec.month) + 1
        if column == "period_month":
            out[column][picked] = month_label(next_month)
        else:
            values = out[column][picked]
            dom = (values - values.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64)
            first = month_start(next_month)
            length = (month_start(next_month + 1) - first).astype(np.int64)
            out[column][picked] = first + np.minimum(dom, length - 1).astype("timedelta64[D]")
        return out, int(picked.size)
    column = layout.null_spike_column  # null_spike
    out[column][picked] = _null(out[column])
    return out, int(picked.size)


def vanished_keys(
    previous: dict[str, np.ndarray], current: dict[str, np.ndarray], spec: DefectSpec, seed: int
) -> np.ndarray:
    """The keys that vanish from spec.month's file on (sorted), for a `vanished_record` defect.

    previous and current are the undamaged rows of the months before and of spec.month.
    Candidates are the spec region's records in previous that are not terminated there and are
    in current; `share` of them (at least one, when there is any) are picked, depending only on
    the seed and the spec.
    """
    key = X.LAYOUTS[spec.extract].key[0]
    rows = _region_rows(previous, spec)
    open_before = rows[np.isnat(previous["termination_date"][rows])]
    candidates = np.intersect1d(previous[key][open_before], current[key])
    if candidates.size == 0:
        return candidates
    assert spec.share is not None  # always a number after __post_init__
    k = min(candidates.size, max(1, int(round(spec.share * candidates.size))))
    return np.sort(_rng(seed, spec).choice(candidates, size=k, replace=False))


def drop_keys(
    frame: dict[str, np.ndarray], extract: str, keys: np.ndarray
) -> tuple[dict[str, np.ndarray], int]:
    """The rows whose key is not among keys, and how many were dropped."""
    if keys.size == 0:
        return frame, 0
    drop = np.isin(frame[X.LAYOUTS[extract].key[0]], keys)
    return _take(frame, np.flatnonzero(~drop)), int(drop.sum())


def truncated(frame: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The first half of the rows (rounded down): what a `truncated_transfer` delivers."""
    return _take(frame, np.arange(len(frame["_region"]) // 2))

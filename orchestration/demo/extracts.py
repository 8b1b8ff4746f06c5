"""The landing-zone layout as the demo generator writes it (docs/methodology.md#landing-contract).

Column order, kinds and code lists come from the landing-zone contract (schemas/contracts.py);
this module adds what only the generator needs: the date a `shift_dates` defect moves, the
required non-key column a `null_spike` defect empties, the fields completed after the first
delivery (`LATE_FIELDS`: the extracts that get re-deliveries), free-text values, regional
shares, and the reference data (regions, PDUs, providers) read from the dbt seeds when first
asked for.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from schemas.contracts import EXTRACTS

SEEDS_DIR = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"


@dataclass(frozen=True)
class ExtractLayout:
    """One monthly extract as written: columns (name, kind) in order and its defect hooks.

    kind is `str`, `date`, `int` or `month` (a `YYYY-MM` string). `date_column` is the date a
    `shift_dates` defect moves (the bracketed date of a fact extract; for snapshot extracts the
    start or sentence date), None where there is none. `null_spike_column` is the required,
    non-key column a `null_spike` defect empties. `key` is the contract's key columns.
    """

    name: str
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...]
    snapshot: bool
    date_column: str | None
    null_spike_column: str

    @property
    def column_names(self) -> list[str]:
        return [name for name, _ in self.columns]


# The generator's own hooks per extract: (the date a `shift_dates` defect moves, the required
# non-key column a `null_spike` defect empties). Columns, kinds and codes come from the contract.
DEFECT_HOOKS: dict[str, tuple[str | None, str]] = {
    "events": ("start_date", "main_offence_category"),
    "requirements": ("sentence_date", "requirement_type"),
    "persons": (None, "sex"),
    "contacts": ("contact_date", "mode"),
    "sentence_plans": ("completed_date", "completed_date"),
    "upw_sessions": ("session_date", "status"),
    "accommodation_checks": ("check_date", "status"),
    "employment_checks": ("check_date", "status"),
    "recalls": ("return_to_custody_date", "part_b_due_date"),
    "parole_reports": ("due_date", "sentence_kind"),
    "handovers": ("com_allocated_date", "months_to_serve"),
    "measure_returns": ("period_month", "numerator"),
}

LAYOUTS: dict[str, ExtractLayout] = {
    name: ExtractLayout(
        name,
        tuple((c.name, c.kind) for c in extract.columns),
        key=tuple(extract.key),
        snapshot=extract.grain == "snapshot",
        date_column=DEFECT_HOOKS[name][0],
        null_spike_column=DEFECT_HOOKS[name][1],
    )
    for name, extract in EXTRACTS.items()
}

MONTHLY_EXTRACTS: tuple[str, ...] = tuple(LAYOUTS)

# Fields completed after the month's first delivery (docs/methodology.md#landing-contract), by
# extract: a delivery shows
# them only once recorded (a contact's outcome is NOT_RECORDED until then), and these extracts
# are the ones re-delivered (`_r2`, `_r3`) with the same rows and the field filled in.
LATE_FIELDS: dict[str, str] = {
    "contacts": "outcome",
    "recalls": "part_b_supplied_date",
    "parole_reports": "sent_date",
    "handovers": "meeting_date",
}

INSPECTION_COLUMNS: tuple[tuple[str, str], ...] = tuple(
    (name, "date" if name == "published_date" else "str")
    for name in (
        "inspection_id", "organisation_code", "organisation_name", "organisation_type",
        "framework", "published_date", "standard_code", "standard_name", "rating",
    )
)  # fmt: skip


def _codes(extract: str, column: str) -> tuple[str, ...]:
    codes = EXTRACTS[extract].column(column).codes
    assert codes is not None, f"{extract}.{column} has no code list in the contract"
    return codes


# Code lists, from the contract (schemas/contracts.py). Order matters: the simulation stores
# codes as indexes into these.
EVENT_TYPES = _codes("events", "event_type")
RELEASE_TYPES = _codes("events", "release_type")
OFFENCE_CATEGORIES = _codes("events", "main_offence_category")
EVENT_TERMINATION_REASONS = _codes("events", "termination_reason")
REQUIREMENT_TYPES = _codes("requirements", "requirement_type")
REQUIREMENT_TERMINATION_REASONS = _codes("requirements", "termination_reason")
SEXES = _codes("persons", "sex")
AGE_BANDS = _codes("persons", "age_band")
ETHNICITIES = _codes("persons", "ethnicity")
DISABILITY = _codes("persons", "disability")
CONTACT_MODES = _codes("contacts", "mode")
CONTACT_OUTCOMES = _codes("contacts", "outcome")
UPW_STATUSES = _codes("upw_sessions", "status")
ACCOMMODATION_CHECKPOINTS = _codes("accommodation_checks", "checkpoint")
ACCOMMODATION_STATUSES = _codes("accommodation_checks", "status")
EMPLOYMENT_CHECKPOINTS = _codes("employment_checks", "checkpoint")
EMPLOYMENT_STATUSES = _codes("employment_checks", "status")
SENTENCE_KINDS = _codes("parole_reports", "sentence_kind")
# Free-text columns in the contract: the values the demo data uses.
RELIGIONS = (
    "CHRISTIAN", "ROMAN_CATHOLIC", "CHURCH_OF_ENGLAND", "MUSLIM", "NONE", "SIKH", "HINDU",
    "BUDDHIST", "JEWISH", "OTHER",
)  # fmt: skip
SEXUAL_ORIENTATIONS = ("HETEROSEXUAL", "GAY_OR_LESBIAN", "BISEXUAL", "OTHER")
INSPECTION_RATINGS = ("OUTSTANDING", "GOOD", "REQUIRES_IMPROVEMENT", "INADEQUATE")
ORGANISATION_TYPES = ("CRC", "NPS_DIVISION", "REGION", "PDU")

# Share of national volumes by region (real caseload proportions, 2021-22).
REGION_SHARES: dict[str, float] = {
    "N07": 0.15,  # London
    "N52": 0.11,  # West Midlands
    "N51": 0.10,  # North West
    "N55": 0.10,  # Yorkshire and the Humber
    "N50": 0.08,  # Greater Manchester
    "N54": 0.08,  # North East
    "N56": 0.08,  # East of England
    "N53": 0.07,  # East Midlands
    "N57": 0.07,  # Kent, Surrey and Sussex
    "N59": 0.06,  # South Central
    "N03": 0.05,  # Wales
    "N58": 0.05,  # South West
}


@dataclass(frozen=True)
class Reference:
    """Regions, PDUs and pre-unification providers as read from the dbt seeds."""

    regions: tuple[str, ...]  # sorted region codes
    region_names: tuple[str, ...]
    pdus: tuple[tuple[str, ...], ...]  # per region (same order), its PDU codes
    pdu_names: tuple[tuple[str, ...], ...]
    providers: tuple[str, ...]  # provider codes
    provider_names: tuple[str, ...]
    provider_types: tuple[str, ...]  # CRC / NPS_DIVISION
    provider_regions: tuple[tuple[str, ...], ...]  # successor region codes per provider


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@cache
def load_reference(seeds_dir: Path = SEEDS_DIR) -> Reference:
    """Read regions.csv, pdus.csv and providers.csv; check the region shares cover the regions."""
    region_rows = sorted(_read_csv(seeds_dir / "regions.csv"), key=lambda r: r["region_code"])
    regions = tuple(r["region_code"] for r in region_rows)
    if set(regions) != set(REGION_SHARES):
        raise ValueError(
            f"{seeds_dir / 'regions.csv'} regions {sorted(regions)} do not match REGION_SHARES "
            f"{sorted(REGION_SHARES)}"
        )
    pdu_rows = _read_csv(seeds_dir / "pdus.csv")
    pdus = tuple(
        tuple(sorted(r["pdu_code"] for r in pdu_rows if r["region_code"] == code))
        for code in regions
    )
    names = {r["pdu_code"]: r["pdu_name"] for r in pdu_rows}
    if any(not codes for codes in pdus):
        raise ValueError(f"{seeds_dir / 'pdus.csv'}: every region needs at least one PDU")
    provider_rows = sorted(_read_csv(seeds_dir / "providers.csv"), key=lambda r: r["provider_code"])
    return Reference(
        regions=regions,
        region_names=tuple(r["region_name"] for r in region_rows),
        pdus=pdus,
        pdu_names=tuple(tuple(names[c] for c in codes) for codes in pdus),
        providers=tuple(r["provider_code"] for r in provider_rows),
        provider_names=tuple(r["provider_name"] for r in provider_rows),
        provider_types=tuple(r["provider_type"] for r in provider_rows),
        provider_regions=tuple(
            tuple(r["successor_region_codes"].split(";")) for r in provider_rows
        ),
    )

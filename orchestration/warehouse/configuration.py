"""The statistician's configuration files, read and checked before any work starts.

- every configuration CSV is read by `orchestration/csv_text.py` (the one reader);
- `read_targets` / `read_moderations`: a file checked against its contract in
  `schemas/configuration.py` (one line naming file, line and rule on a breach);
- `data_months` / `rated_years`: the months with data (delivered or loaded), and the
  performance years a region can be rated in (data and a target);
- `configuration_problems`: every configuration file of a run checked at once (reviews,
  targets, moderations, quality thresholds, the workbook's cover settings, the disclosure
  threshold), one line per problem. The runner calls it before
  loading anything, and the warehouse asset before dbt reads the files.
"""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pandas as pd

from orchestration.csv_text import read_csv_text
from orchestration.ingest.landing import delivered_months
from orchestration.settings import DBT_PROJECT_DIR, Settings
from orchestration.warehouse.quality import read_reviews
from schemas.configuration import (
    ConfigurationError,
    validate_disclosure_threshold,
    validate_moderations,
    validate_publication,
    validate_share,
    validate_targets,
)
from schemas.contracts import MONTHLY_EXTRACTS
from schemas.periods import performance_year
from schemas.quality import ThresholdsError, load_thresholds

TARGETS_SEED = DBT_PROJECT_DIR / "seeds" / "targets.csv"


def read_targets(path: Path) -> pd.DataFrame:
    """A published targets file, checked (schemas.configuration.targets_schema)."""
    return validate_targets(read_csv_text(path), path)


def data_months(settings: Settings) -> list[str]:
    """Months YYYY-MM with a delivery in the landing zone or a load in the ledger."""
    months = set(delivered_months(settings.landing_dir, MONTHLY_EXTRACTS))
    ledger = settings.raw_dir / "loads"
    if ledger.is_dir():
        months |= {p.stem.rsplit("_", 1)[-1] for p in ledger.glob("*.parquet")}
    return sorted(m for m in months if len(m) == 7)


def data_years(settings: Settings) -> list[str]:
    """Performance years with a month delivered in the landing zone or already loaded."""
    return sorted({performance_year(m) for m in data_months(settings)})


def rated_years(settings: Settings) -> list[str]:
    """Performance years a region can be rated in: years with data and a target in force."""
    if settings.targets_file is not None:
        targets = read_targets(settings.targets_file)
    else:
        targets = read_csv_text(TARGETS_SEED)
    return sorted(set(data_years(settings)) & set(targets["performance_year"].dropna()))


def read_moderations(path: Path, years: list[str] | None = None) -> pd.DataFrame:
    """A rating moderations file, checked (schemas.configuration.moderations_schema); `years`
    are the performance years that exist (None: any well-formed year)."""
    return validate_moderations(read_csv_text(path), path, years)


def configuration_problems(settings: Settings) -> list[str]:
    """One line per configuration file that cannot be used (empty when all are good)."""
    problems = []

    def check(read) -> bool:
        try:
            read()
        except (ConfigurationError, ThresholdsError) as error:
            problems.append(str(error))
            return False
        return True

    check(lambda: read_reviews(settings.reviews_path))
    check(load_thresholds)
    targets_ok = settings.targets_file is None or check(lambda: read_targets(settings.targets_file))
    years = rated_years(settings) if targets_ok else None
    check(lambda: read_moderations(settings.moderations_file, years))
    check(lambda: read_publication(settings.publication_file))
    if settings.disclosure_threshold_setting is not None:
        check(
            lambda: validate_disclosure_threshold(
                settings.disclosure_threshold_setting, "PROBATION_DISCLOSURE_THRESHOLD"
            )
        )
    if settings.min_final_share_setting is not None:
        check(lambda: validate_share(settings.min_final_share_setting, "PROBATION_MIN_FINAL_SHARE"))
    return problems


def read_publication(path: Path) -> dict:
    """The workbook's cover settings, checked (schemas/configuration.py)."""
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigurationError(f"{path}: cannot be read ({error.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigurationError(f"{path}: not valid TOML ({error})") from None
    return validate_publication(values, path)


def announced_date(values: dict, edition: str) -> date | None:
    """The date publication.toml's release calendar pre-announced for an edition, if any."""
    return values.get("release_calendar", {}).get(edition)


def next_edition(values: dict, edition: str) -> tuple[str, date] | None:
    """The first edition after `edition` in the release calendar, and its date."""
    later = sorted((e, d) for e, d in values.get("release_calendar", {}).items() if e > edition)
    return later[0] if later else None


def access_list(values: dict) -> list[dict]:
    """The pre-release access list: one {organisation, role, count} per role."""
    return [
        {"organisation": o["name"], "role": r["role"], "count": r["count"]}
        for o in values["pre_release_access"].get("organisations", [])
        for r in o["roles"]
    ]

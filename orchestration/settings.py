"""Where things live: the landing zone, the data folder and everything the pipeline writes there.

Paths come from the environment (PROBATION_LANDING_DIR, PROBATION_DATA_DIR,
PROBATION_PUBLISHED_DIR) or the command-line flags that set them; the defaults sit inside the
project's git-ignored `data/` folder. Nothing here touches the file system until asked.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
MODERATIONS_SEED = DBT_PROJECT_DIR / "seeds" / "ratings" / "rating_moderations.csv"
PUBLICATION_FILE = PROJECT_ROOT / "publication.toml"
FIRST_MONTH = "2019-04"
TIMEZONE = "Europe/London"
NATIONAL_CODE = "K04000001"


def dbt_project_vars() -> dict:
    """The variables of dbt_project.yml with their defaults."""
    import yaml  # installed with dbt

    return yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]


@dataclass(frozen=True)
class Settings:
    """The landing zone the pipeline reads and the data folder it owns."""

    landing_dir: Path
    data_dir: Path

    @classmethod
    def from_env(cls, landing_dir: str | Path | None = None, data_dir: str | Path | None = None):
        data = Path(data_dir or os.environ.get("PROBATION_DATA_DIR") or PROJECT_ROOT / "data")
        landing = Path(landing_dir or os.environ.get("PROBATION_LANDING_DIR") or data / "landing")
        return cls(landing_dir=landing.resolve(), data_dir=data.resolve())

    @property
    def raw_dir(self) -> Path:
        """Validated raw Parquet, one file per extract and month."""
        return self.data_dir / "raw"

    @property
    def quarantine_dir(self) -> Path:
        """Rows set aside by the row rules, with their reason."""
        return self.data_dir / "quarantine"

    @property
    def warehouse_path(self) -> Path:
        """The DuckDB file dbt and the pipeline write (one writer at a time)."""
        return self.data_dir / "warehouse.duckdb"

    @property
    def analytics_path(self) -> Path:
        """The analyst snapshot: a copy of the marts, swapped in after each good run."""
        return self.data_dir / "analytics.duckdb"

    @property
    def alerts_log(self) -> Path:
        """Every alert raised (a failed run, late data, a held edition), one JSON line each."""
        return self.data_dir / "logs" / "alerts.jsonl"

    @property
    def analytics_parquet_dir(self) -> Path:
        return self.data_dir / "analytics"

    @property
    def candidates_dir(self) -> Path:
        """Candidate tables of each edition (tidy Parquet), which the quality gate checks."""
        return self.data_dir / "candidates"

    @property
    def staging_dir(self) -> Path:
        """Staged editions: one folder per edition (workbook, CSV, Parquet, dictionary), built
        only after the gate passes; nothing here is released yet."""
        return self.data_dir / "staging"

    @property
    def published_dir(self) -> Path:
        """Released editions (never overwritten, read-only) and the release log:
        PROBATION_PUBLISHED_DIR, else `<data>/published`. No command ever deletes it."""
        value = os.environ.get("PROBATION_PUBLISHED_DIR")
        return Path(value).resolve() if value else self.data_dir / "published"

    @property
    def publication_file(self) -> Path:
        """What the workbook's Cover says (PROBATION_PUBLICATION_FILE, else publication.toml)."""
        value = os.environ.get("PROBATION_PUBLICATION_FILE")
        return Path(value).resolve() if value else PUBLICATION_FILE

    @property
    def disclosure_threshold_setting(self) -> str | None:
        """PROBATION_DISCLOSURE_THRESHOLD as given (checked by configuration_problems)."""
        return os.environ.get("PROBATION_DISCLOSURE_THRESHOLD") or None

    @property
    def disclosure_threshold(self) -> int:
        """Counts below this many people are confidential in breakdown tables: the setting, else
        the dbt project's default (var disclosure_threshold)."""
        value = self.disclosure_threshold_setting
        return int(value) if value else int(dbt_project_vars()["disclosure_threshold"])

    @property
    def min_final_share_setting(self) -> str | None:
        """PROBATION_MIN_FINAL_SHARE as given (checked by configuration_problems)."""
        return os.environ.get("PROBATION_MIN_FINAL_SHARE") or None

    @property
    def min_final_share(self) -> float:
        """A provisional cell with a smaller share of final cases publishes [x] (not yet
        complete): the setting, else the dbt project's default (var provisional_min_final_share)."""
        value = self.min_final_share_setting
        return float(value) if value else float(dbt_project_vars()["provisional_min_final_share"])

    @staticmethod
    def delivery_day() -> int:
        """Day of the month by which the previous month's extracts are expected
        (PROBATION_DELIVERY_DAY, 1 to 28, default 10): the ingest freshness checks' deadline."""
        value = os.environ.get("PROBATION_DELIVERY_DAY", "10").strip()
        if not value.isdigit() or not 1 <= int(value) <= 28:
            raise ValueError(
                f"PROBATION_DELIVERY_DAY={value!r}: must be a day of the month, 1 to 28"
            )
        return int(value)

    @property
    def keep_logs(self) -> int:
        """How many run logs `<data>/logs/` keeps (PROBATION_KEEP_LOGS, default 30); older
        ones are deleted when a run starts."""
        value = os.environ.get("PROBATION_KEEP_LOGS", "30")
        return int(value) if value.strip().isdigit() and int(value) > 0 else 30

    @property
    def soffice(self) -> str | None:
        """The LibreOffice program to convert the workbook to ODS (PROBATION_SOFFICE, else
        soffice on PATH)."""
        return os.environ.get("PROBATION_SOFFICE") or None

    @property
    def reviews_path(self) -> Path:
        """The statistician's reviewed quality decisions."""
        return Path(
            os.environ.get("PROBATION_REVIEWS_FILE") or self.data_dir / "quality_reviews.csv"
        )

    @property
    def targets_file(self) -> Path | None:
        """Published targets to use instead of the illustrative seed (PROBATION_TARGETS_FILE)."""
        value = os.environ.get("PROBATION_TARGETS_FILE")
        return Path(value).resolve() if value else None

    @property
    def moderations_file(self) -> Path:
        """The rating moderations in force: PROBATION_MODERATIONS_FILE, else the dbt seed."""
        value = os.environ.get("PROBATION_MODERATIONS_FILE")
        return Path(value).resolve() if value else MODERATIONS_SEED

    def dbt_vars(self) -> dict[str, str]:
        """dbt variables naming the statistician's files (validated before dbt reads them); only
        those set, so a run with the shipped seeds keeps dbt's partial parsing."""
        found = {"targets_file": self.targets_file, "moderations_file": self.moderations_file}
        chosen = {k: str(v) for k, v in found.items() if v is not None and v != MODERATIONS_SEED}
        if self.disclosure_threshold_setting:
            chosen["disclosure_threshold"] = self.disclosure_threshold_setting
        if self.min_final_share_setting:
            chosen["provisional_min_final_share"] = self.min_final_share_setting
        return chosen

    def dbt_env(self) -> dict[str, str]:
        """Environment variables the dbt profile and sources read. `buildable` indirect selection
        runs a test that spans several models (a relationships test between a seed and a mart)
        only in a build that selects all of them (a UI run of a subset never tests a model it
        did not build against one it did)."""
        return {
            "PROBATION_DATA_DIR": str(self.data_dir),
            "DBT_INDIRECT_SELECTION": "buildable",
        }

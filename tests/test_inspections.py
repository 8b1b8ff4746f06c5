"""The HMIP inspections reference extract end to end: contract, loading, the league table.

- the contract: the demo generator writes the contract's columns; a bad code is rejected with one
  line naming the file, line and rule; the landing file is never modified; a duplicate key or a
  null is set aside with its reason and line, never dropped;
- no inspections file: an empty raw table, an empty league table, and the run succeeds;
- the rating bands seed: HMIP's published 10-standard bands, every total banded exactly once;
- the real pipeline over the fixture landing zone (tests/fixtures/landing/inspections: twelve
  organisations, C07 inspected twice) gives the hand-worked league table and comparisons.
"""

from __future__ import annotations

import csv
import hashlib
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from orchestration.defs.reference import inspections as inspections_asset
from orchestration.demo import extracts as X
from orchestration.demo.inspections import inspection_rows
from orchestration.demo.writer import write_table
from orchestration.ingest.extract_month import ContractBreach
from orchestration.ingest.reference import (
    load_reference,
    reference_quarantine_path,
    reference_raw_path,
)
from orchestration.resources import PipelineResource
from orchestration.running.runner import load_definitions
from orchestration.settings import DBT_PROJECT_DIR, Settings
from schemas.contracts import REFERENCE_EXTRACTS
from tests.conftest import FIXTURE_LANDING

pytestmark = pytest.mark.pipeline

INSPECTIONS = REFERENCE_EXTRACTS["inspections"]
SEEDS = DBT_PROJECT_DIR / "seeds"
FIXTURE_FILE = FIXTURE_LANDING / "inspections" / "inspections.csv"
HEADER = ",".join(INSPECTIONS.column_names) + "\n"
RATINGS = "OUTSTANDING, GOOD, REQUIRES_IMPROVEMENT, INADEQUATE"


def row(inspection="I1", standard="1.1", rating="GOOD", code="C01", date="2019-01-07"):
    return (
        f"{inspection},{code},Northumbria CRC,CRC,HMIP 2018,{date},{standard},Leadership,{rating}\n"
    )


def deliver(landing: Path, body: str) -> Path:
    path = landing / "inspections" / "inspections.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + body)
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def materialise(landing: Path, data: Path) -> dg.ExecuteInProcessResult:
    """The Dagster asset raw/inspections alone, as refresh_job runs it."""
    resource = PipelineResource(landing_dir=str(landing), data_dir=str(data))
    return dg.materialize(
        [inspections_asset], resources={"pipeline": resource}, raise_on_error=False
    )


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# The contract --------------------------------------------------------------------------------


def test_demo_generator_writes_the_contract_columns_and_codes():
    """The seam between the demo generator and the contract: same columns, kinds and codes."""
    assert [name for name, _ in X.INSPECTION_COLUMNS] == INSPECTIONS.column_names
    assert dict(X.INSPECTION_COLUMNS) == {c.name: c.kind for c in INSPECTIONS.columns}
    assert INSPECTIONS.column("rating").codes == X.INSPECTION_RATINGS
    assert INSPECTIONS.column("organisation_type").codes == X.ORGANISATION_TYPES


def test_demo_inspections_load_cleanly_and_every_inspection_has_a_band(tmp_path):
    landing, data = tmp_path / "landing", tmp_path / "data"
    (landing / "inspections").mkdir(parents=True)
    frame = inspection_rows(20190401)
    write_table(frame, X.INSPECTION_COLUMNS, landing / "inspections" / "inspections.csv", "csv")
    report = load_reference(Settings.from_env(landing, data), "inspections")
    assert report.rows_set_aside == 0 and report.rows_loaded == len(frame["inspection_id"])
    table = pd.read_parquet(reference_raw_path(Settings.from_env(landing, data), "inspections"))
    sizes = table.groupby(["inspection_id", "framework"]).size().rename("n").reset_index()
    bands = {(r["framework"], int(r["n_standards"])) for r in read_csv(bands_seed())}
    assert set(zip(sizes["framework"], sizes["n"], strict=True)) <= bands


def test_a_bad_rating_is_one_line_naming_file_line_and_rule(tmp_path):
    landing, data = tmp_path / "landing", tmp_path / "data"
    path = deliver(landing, row() + row(standard="1.2") + row(standard="1.3", rating="EXCELLENT"))
    before = sha256(path)
    with pytest.raises(ContractBreach) as caught:
        load_reference(Settings.from_env(landing, data), "inspections")
    assert str(caught.value) == (
        f"{path}: line 4: bad value: column rating = 'EXCELLENT' is not one of {RATINGS}"
    )
    assert sha256(path) == before  # the landing file is never modified

    result = materialise(landing, data)  # the asset fails with the same line, no class names
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    description = failure.step_failure_data.user_failure_data.description
    assert description == str(caught.value) and "\n" not in description
    assert not any(word in description for word in ("Error", "Exception", "Breach", "Failure"))
    assert sha256(path) == before


@pytest.mark.parametrize(
    ("body", "line", "rule", "detail"),
    [
        (row(date="07/01/2019"), 2, "bad value", "published_date = '07/01/2019' is not ISO date"),
        (row(code="c01"), 2, "bad value", "organisation_code = 'c01'"),
        (row().replace(",CRC,", ",TRUST,"), 2, "bad value", "organisation_type = 'TRUST'"),
    ],
)
def test_other_contract_breaches(tmp_path, body, line, rule, detail):
    landing = tmp_path / "landing"
    path = deliver(landing, body)
    with pytest.raises(ContractBreach) as caught:
        load_reference(Settings.from_env(landing, tmp_path / "data"), "inspections")
    assert str(caught.value).startswith(f"{path}: line {line}: {rule}: ")
    assert detail in str(caught.value)


def test_a_missing_column_and_two_deliveries_are_breaches(tmp_path):
    landing, data = tmp_path / "landing", tmp_path / "data"
    path = landing / "inspections" / "inspections.csv"
    path.parent.mkdir(parents=True)
    path.write_text(HEADER.replace(",rating", "") + row().rsplit(",", 1)[0] + "\n")
    with pytest.raises(ContractBreach, match=r"inspections.csv: line 1: missing column: rating$"):
        load_reference(Settings.from_env(landing, data), "inspections")
    deliver(landing, row())
    (landing / "inspections" / "inspections.parquet").write_bytes(b"")
    with pytest.raises(ContractBreach, match="one file per reference extract"):
        load_reference(Settings.from_env(landing, data), "inspections")


def test_a_breach_keeps_the_previous_load(tmp_path):
    landing, data = tmp_path / "landing", tmp_path / "data"
    settings = Settings.from_env(landing, data)
    deliver(landing, row() + row(standard="1.2"))
    load_reference(settings, "inspections")
    before = reference_raw_path(settings, "inspections").read_bytes()
    deliver(landing, row(rating="EXCELLENT"))
    with pytest.raises(ContractBreach):
        load_reference(settings, "inspections")
    assert reference_raw_path(settings, "inspections").read_bytes() == before


def test_duplicate_keys_and_nulls_are_set_aside_with_reason_and_line(tmp_path):
    landing, data = tmp_path / "landing", tmp_path / "data"
    settings = Settings.from_env(landing, data)
    path = deliver(
        landing,
        row(standard="1.1")
        + row(standard="1.2", rating="OUTSTANDING")
        + row(standard="1.1", rating="INADEQUATE")  # the key (I1, 1.1) again: line 4
        + row(standard="1.3", rating=""),  # no rating: line 5
    )
    before = sha256(path)
    report = load_reference(settings, "inspections")
    assert (report.rows_delivered, report.rows_loaded, report.rows_set_aside) == (4, 2, 2)
    assert report.set_aside_by_reason == {
        "duplicate_key:inspection_id+standard_code": 1,
        "null_required:rating": 1,
    }
    kept = pq.read_table(reference_raw_path(settings, "inspections")).to_pydict()
    assert kept["standard_code"] == ["1.1", "1.2"] and kept["rating"] == ["GOOD", "OUTSTANDING"]
    assert kept["_source_file"] == ["inspections.csv"] * 2 and kept["_source_line"] == [2, 3]
    aside = pq.read_table(reference_quarantine_path(settings, "inspections")).to_pydict()
    assert list(zip(aside["_source_line"], aside["_reason"], aside["rating"], strict=True)) == [
        (4, "duplicate_key:inspection_id+standard_code", "INADEQUATE"),
        (5, "null_required:rating", None),
    ]
    assert sha256(path) == before

    deliver(landing, row())  # a clean re-delivery clears the quarantine
    assert load_reference(settings, "inspections").rows_set_aside == 0
    assert not reference_quarantine_path(settings, "inspections").exists()


def test_a_parquet_delivery_loads_as_the_csv_does(tmp_path):
    frame = inspection_rows(7)
    tables = []
    for fmt in ("csv", "parquet"):
        landing = tmp_path / fmt / "landing"
        (landing / "inspections").mkdir(parents=True)
        write_table(
            frame, X.INSPECTION_COLUMNS, landing / "inspections" / f"inspections.{fmt}", fmt
        )
        settings = Settings.from_env(landing, tmp_path / fmt / "data")
        load_reference(settings, "inspections")
        table = pq.read_table(reference_raw_path(settings, "inspections"))
        tables.append(table.drop_columns(["_source_file"]))
    assert tables[0].equals(tables[1])


# No inspections file ---------------------------------------------------------------------------


def test_no_inspections_file_gives_an_empty_table_and_says_so(tmp_path):
    landing, data = tmp_path / "landing", tmp_path / "data"
    landing.mkdir()
    result = materialise(landing, data)
    assert result.success
    metadata = result.asset_materializations_for_node("raw__inspections")[0].metadata
    assert metadata["delivered"].value is False
    assert "none delivered" in metadata["source_file"].value
    assert metadata["rows_loaded"].value == 0
    table = pq.read_table(reference_raw_path(Settings.from_env(landing, data), "inspections"))
    assert table.num_rows == 0
    assert table.column_names == [*INSPECTIONS.column_names, "_source_file", "_source_line"]
    assert str(table.schema.field("published_date").type) == "date32[day]"
    assert not (landing / "inspections").exists()  # nothing written to the landing zone


INSPECTION_MODELS = [
    "stg_inspections",
    "inspection_scores",
    "inspection_league_table",
    "inspection_nps_vs_crc",
    "inspection_type_summary",
    "inspection_standard_ratings",
]


def test_no_inspections_file_builds_an_empty_league_table(fixture_run, tmp_path, monkeypatch):
    """refresh_job's inspection assets (the raw asset, then dbt with its tests) on a copy of the
    fixture data folder, with the inspections file taken away: the run succeeds, empty."""
    settings, _ = fixture_run
    landing, data = tmp_path / "landing", tmp_path / "data"
    shutil.copytree(settings.landing_dir, landing, ignore=shutil.ignore_patterns("inspections"))
    shutil.copytree(settings.data_dir, data, ignore=shutil.ignore_patterns("logs", "analytics*"))
    monkeypatch.setenv("PROBATION_LANDING_DIR", str(landing))
    monkeypatch.setenv("PROBATION_DATA_DIR", str(data))
    result = (
        load_definitions()
        .resolve_job_def("refresh_job")
        .execute_in_process(
            asset_selection=[dg.AssetKey(["raw", "inspections"])]
            + [dg.AssetKey(name) for name in INSPECTION_MODELS],
            instance=dg.DagsterInstance.ephemeral(),
            raise_on_error=False,
        )
    )
    assert result.success
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        for model in INSPECTION_MODELS:
            assert con.execute(f"select count(*) from {model}").fetchone() == (0,), model


# The rating bands seed -------------------------------------------------------------------------


def bands_seed() -> Path:
    return SEEDS / "ratings" / "inspection_rating_bands.csv"


def test_bands_cover_every_total_once_and_match_hmips_published_bands():
    bands: dict[tuple[str, int], list[tuple[int, int, str]]] = {}
    for r in read_csv(bands_seed()):
        key = (r["framework"], int(r["n_standards"]))
        bands.setdefault(key, []).append((int(r["min_total"]), int(r["max_total"]), r["rating"]))
    for (framework, n), rows in bands.items():
        rows.sort()
        assert rows[0][0] == 0 and rows[-1][1] == 3 * n, (framework, n)
        for (_, top, _), (bottom, _, _) in zip(rows, rows[1:], strict=False):
            assert bottom == top + 1, (framework, n)  # no gap, no overlap
        assert [label for *_, label in rows] == [
            "Inadequate", "Requires improvement", "Good", "Outstanding",
        ]  # fmt: skip
    published = [(0, 5, "Inadequate"), (6, 15, "Requires improvement"), (16, 25, "Good"),
                 (26, 30, "Outstanding")]  # fmt: skip
    assert bands[("HMIP 2018", 10)] == published
    assert [(lo, hi) for lo, hi, _ in bands[("HMIP 2021", 9)]] == [(0, 4), (5, 13), (14, 22),
                                                                    (23, 27)]  # fmt: skip
    scores = {
        r["rating"]: int(r["score"])
        for r in read_csv(SEEDS / "ratings" / "inspection_rating_scores.csv")
    }
    assert scores == {"OUTSTANDING": 3, "GOOD": 2, "REQUIRES_IMPROVEMENT": 1, "INADEQUATE": 0}


# The real pipeline over the fixture landing zone ----------------------------------------------

# Hand-worked from tests/fixtures/landing/inspections/inspections.csv (Outstanding 3, Good 2,
# Requires improvement 1, Inadequate 0): (type, code, inspection, total, rating, rank in
# framework, previous total, previous rating). C06 and N01 tie on 16 (rank 4; N02 is 6th); C07
# was re-inspected (12 in 2018, 17 in 2020); 25 is Good and 26 Outstanding of 30; 22 is Good and
# 23 Outstanding of 27.
LEAGUE = [
    ("NPS_DIVISION", "N03", "HMIP0002", 26, "Outstanding", 1, None, None),
    ("CRC", "C10", "HMIP0003", 25, "Good", 2, None, None),
    ("CRC", "C07", "HMIP0010", 17, "Good", 3, 12, "Requires improvement"),
    ("CRC", "C06", "HMIP0005", 16, "Good", 4, None, None),
    ("NPS_DIVISION", "N01", "HMIP0004", 16, "Good", 4, None, None),
    ("NPS_DIVISION", "N02", "HMIP0009", 15, "Requires improvement", 6, None, None),
    ("CRC", "C02", "HMIP0006", 14, "Requires improvement", 7, None, None),
    ("NPS_DIVISION", "N07", "HMIP0007", 6, "Requires improvement", 8, None, None),
    ("CRC", "C17", "HMIP0008", 5, "Inadequate", 9, None, None),
    ("PDU", "N03CTM", "HMIP0012", 23, "Outstanding", 1, None, None),
    ("REGION", "N03", "HMIP0011", 22, "Good", 2, None, None),
    ("REGION", "N07", "HMIP0013", 13, "Requires improvement", 3, None, None),
]


def test_the_fixture_run_builds_the_hand_worked_league_table(warehouse):
    got = warehouse.execute(
        "select organisation_type, organisation_code, inspection_id, total_score, rating, "
        "rank_in_framework, previous_total_score, previous_rating from inspection_league_table "
        "order by framework, rank_in_framework, organisation_code"
    ).fetchall()
    assert got == LEAGUE
    areas = dict(
        warehouse.execute(
            "select organisation_type || ':' || organisation_code, area_region_codes "
            "from inspection_league_table"
        ).fetchall()
    )
    assert areas["NPS_DIVISION:N03"] == "N03" and areas["REGION:N03"] == "N03"
    assert areas["CRC:C07"] == "N50;N51" and areas["PDU:N03CTM"] == "N03"


def test_the_fixture_run_compares_nps_divisions_with_the_crcs_in_their_area(warehouse):
    got = warehouse.execute(
        "select division_code, total_score, crcs_in_area, crc_codes, "
        "round(crc_mean_total_score, 4), crc_best_total_score, crc_worst_total_score, "
        "crcs_outscored, outscores_every_crc_in_area from inspection_nps_vs_crc "
        "order by division_code"
    ).fetchall()
    assert got == [
        # N01 (N50;N51): C02 14, C06 16, C07 17, mean 47/3; beats C02 only (ties C06)
        ("N01", 16, 3, "C02;C06;C07", 15.6667, 17, 14, 1, False),
        ("N02", 15, 0, None, None, None, None, 0, None),  # no CRC of N54;N55 inspected
        ("N03", 26, 1, "C10", 25.0, 25, 25, 1, True),
        ("N07", 6, 1, "C17", 5.0, 5, 5, 1, True),
    ]
    summary = warehouse.execute(
        "select organisation_type, organisations, mean_total_score, rated_good_or_better "
        "from inspection_type_summary where framework = 'HMIP 2018' order by organisation_type"
    ).fetchall()
    # CRCs 25, 17, 16, 14, 5 (mean 15.4; three Good); NPS 26, 16, 15, 6 (mean 15.75; two)
    assert summary == [("CRC", 5, 15.4, 3), ("NPS_DIVISION", 4, 15.75, 2)]


def test_the_fixture_run_ranks_organisations_by_standard(warehouse):
    leadership = warehouse.execute(
        "select organisation_code, rating, rank_in_standard, organisations_rated "
        "from inspection_standard_ratings where framework = 'HMIP 2018' "
        "and standard_code = '1.1' order by rank_in_standard, organisation_code"
    ).fetchall()
    # Outstanding: C10, N01, N03; Good: C02, C06, C07 (its 2020 inspection), N02; RI: C17, N07
    assert [(code, rank) for code, _, rank, _ in leadership] == [
        ("C10", 1), ("N01", 1), ("N03", 1), ("C02", 4), ("C06", 4), ("C07", 4), ("N02", 4),
        ("C17", 8), ("N07", 8),
    ]  # fmt: skip
    assert {n for *_, n in leadership} == {9}
    unpaid = warehouse.execute(
        "select count(*) from inspection_standard_ratings where standard_name = 'Unpaid work' "
        "and framework = 'HMIP 2018'"
    ).fetchone()
    assert unpaid == (5,)  # CRCs only: NPS divisions' 3.1 is court reports, ranked apart


def test_the_fixture_run_publishes_the_league_table_to_analysts(fixture_run):
    settings, _ = fixture_run
    with duckdb.connect(str(settings.analytics_path), read_only=True) as snapshot:
        assert snapshot.execute("select count(*) from inspection_league_table").fetchone() == (12,)
    assert not reference_quarantine_path(settings, "inspections").exists()
    assert pq.read_table(reference_raw_path(settings, "inspections")).num_rows == 127
    assert sha256(settings.landing_dir / "inspections" / "inspections.csv") == sha256(FIXTURE_FILE)

"""Ratings end to end: a published targets file and a moderation through the real pipeline, and
the statistician's files checked before any work starts (one line naming file, line and rule).

The scoring itself (points, margin, weights, bands, suppressed months, moderation) has golden
values worked by hand in dbt unit tests: dbt_project/models/marts/ratings/_ratings_unit_tests.yml.
"""

from __future__ import annotations

import csv
import shutil

import duckdb
import pytest

from orchestration.cli import main
from orchestration.running.runner import run_pipeline
from orchestration.settings import DBT_PROJECT_DIR, Settings

pytestmark = pytest.mark.pipeline

TARGETS_SEED = DBT_PROJECT_DIR / "seeds" / "targets.csv"
MODERATION_HEADER = "region_code,performance_year,moderated_rating,reason,decided_by,decided_on\n"
PUBLISHED = "Published: Probation Service targets 2021-22"


def rows(path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def targets_file(tmp_path, extra: str = "") -> str:
    path = tmp_path / "published_targets.csv"
    path.write_text(TARGETS_SEED.read_text() + extra)
    return str(path)


def test_a_published_targets_file_and_a_moderation_run_through_the_pipeline(
    fixture_run, tmp_path, monkeypatch
):
    """A copy of the seed plus Wales's own SL004 target, and a moderation of London's
    2021-22 rating: dbt's unit tests still read their fixtures, the file's target is in force,
    and the moderated rating is published with its asterisk beside the data-driven one."""
    monkeypatch.setenv(
        "PROBATION_TARGETS_FILE",
        targets_file(tmp_path, f"SL004,2021-22,N03,END_STATE,0.5,,{PUBLISHED}\n"),
    )
    moderations = tmp_path / "moderations.csv"
    moderations.write_text(
        MODERATION_HEADER + "N07,2021-22,2,Inspection found case records incomplete,"
        "Ratings board,2022-07-14\n"
    )
    monkeypatch.setenv("PROBATION_MODERATIONS_FILE", str(moderations))
    loaded = fixture_run[0]  # a copy of the fixture run's data: nothing to load, dbt rebuilds
    shutil.copytree(loaded.data_dir, tmp_path / "data")
    settings = Settings.from_env(loaded.landing_dir, tmp_path / "data")

    summary = run_pipeline(settings, quiet=True, log_level="CRITICAL")

    assert summary.failures == [] and summary.refreshed and summary.loaded == []
    warehouse = settings.warehouse_path
    with TARGETS_SEED.open() as handle:
        seed_rows = len(list(csv.DictReader(handle)))
    assert rows(warehouse, "select count(*) from stg_targets") == [(seed_rows + 1,)]
    assert rows(
        warehouse,
        "select geography_code, target, source from int_targets where measure_code = 'SL004' "
        "and performance_year = '2021-22' and geography_code in ('N03', 'N50') order by 1",
    ) == [("N03", 0.5, PUBLISHED), ("N50", 0.9, "ILLUSTRATIVE: not a published target")]
    # The fixture's 2021-22 months (April, May) are in the suppressed unification quarter, so
    # no measure has a valid month: nothing is scored, and the moderation alone sets a rating.
    ratings = rows(
        warehouse,
        "select region_code, measures_counted, data_rating, rating, moderated, "
        "region_name_as_published, moderation_reason from region_ratings "
        "where performance_year = '2021-22' order by region_code",
    )
    assert len(ratings) == 12
    london = next(r for r in ratings if r[0] == "N07")
    reason = "Inspection found case records incomplete"
    assert london == ("N07", 0, None, 2, True, "London*", reason)
    assert all(r[4] is False and r[3] is None for r in ratings if r[0] != "N07")
    outcomes = rows(
        warehouse,
        "select distinct outcome from region_rating_points where performance_year = '2021-22'",
    )
    assert outcomes == [("NO_VALID_MONTH",)]
    with duckdb.connect(str(settings.analytics_path), read_only=True) as snapshot:
        tables = {r[0] for r in snapshot.execute("show tables").fetchall()}
    assert {"region_ratings", "region_rating_points", "target_attainment"} <= tables


@pytest.mark.parametrize(
    ("extra", "line", "rule"),
    [
        ("SL004,2021-22,N07,END_STATE,90,,Published\n", 106,
         "column target is '90', expected a proportion between 0 and 1"),
        ("SL999,2021-22,N07,END_STATE,0.9,,Published\n", 106,
         "column measure_code is 'SL999', expected a measure code of the catalogue"),
        ("SL004,2021-22,N99,END_STATE,0.9,,Published\n", 106,
         "column geography_code is 'N99', expected *, K04000001 or a region code"),
        ("SL004,2021-22,*,END_STATE,0.8,,Published\n", 106,
         "a second target for the same measure, year, geography and type"),
        ("SL004,2021-23,N07,END_STATE,0.9,,Published\n", 106,
         "column performance_year is '2021-23', expected a performance year such as 2024-25"),
    ],
)  # fmt: skip
def test_a_bad_targets_file_stops_the_run_before_any_work(
    landing_copy, tmp_path, monkeypatch, capsys, extra, line, rule
):
    path = targets_file(tmp_path, extra)
    monkeypatch.setenv("PROBATION_TARGETS_FILE", path)
    data = tmp_path / "data"

    code = main(["run", "--landing", str(landing_copy), "--data-dir", str(data)])

    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(err) == 1 and err[0].startswith(
        f"error: {path}: line {line}: {rule} (earlier outputs unchanged; log: "
    )
    assert "Error" not in err[0] and "Traceback" not in "\n".join(err)
    assert not (data / "raw").exists()  # nothing was loaded


@pytest.mark.parametrize(
    ("moderation", "rule"),
    [
        ("N99,2021-22,3,Reason,Board,2022-07-14",
         "column region_code is 'N99', expected a region code"),
        ("N07,2030-31,3,Reason,Board,2022-07-14",
         "column performance_year is '2030-31', expected a performance year with data (2021-22)"),
        ("N07,2021-22,5,Reason,Board,2022-07-14",
         "column moderated_rating is '5', expected a rating 1, 2, 3 or 4"),
        ("N07,2021-22,3,,Board,2022-07-14", "column reason is empty, expected filled in"),
    ],
)  # fmt: skip
def test_a_moderation_of_a_region_or_year_that_does_not_exist_stops_the_run(
    landing_copy, tmp_path, monkeypatch, moderation, rule
):
    path = tmp_path / "moderations.csv"
    path.write_text(MODERATION_HEADER + moderation + "\n")
    monkeypatch.setenv("PROBATION_MODERATIONS_FILE", str(path))
    settings = Settings.from_env(landing_copy, tmp_path / "data")

    summary = run_pipeline(settings, quiet=True, log_level="CRITICAL")

    assert summary.failures == [f"{path}: line 2: {rule}"]
    assert summary.loaded == [] and not summary.refreshed


def test_the_shipped_configuration_passes_its_own_contracts(landing_copy, tmp_path, monkeypatch):
    from orchestration.warehouse.configuration import configuration_problems

    for name in ("PROBATION_TARGETS_FILE", "PROBATION_MODERATIONS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PROBATION_TARGETS_FILE", str(TARGETS_SEED))
    assert configuration_problems(Settings.from_env(landing_copy, tmp_path / "data")) == []


def test_python_and_dbt_agree_on_codes_the_configuration_contracts_check():
    """Seams: the codes schemas/configuration.py accepts are the ones the dbt project uses."""
    import yaml

    from schemas.configuration import NATIONAL_CODE, RATINGS, catalogue_measure_codes
    from schemas.contracts import REGION_CODES

    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())
    assert project["vars"]["national_code"] == NATIONAL_CODE
    with (DBT_PROJECT_DIR / "seeds" / "regions.csv").open() as handle:
        assert sorted(r["region_code"] for r in csv.DictReader(handle)) == sorted(REGION_CODES)
    seeds = DBT_PROJECT_DIR / "seeds" / "ratings"
    with (seeds / "rating_bands.csv").open() as handle:
        assert sorted(r["rating"] for r in csv.DictReader(handle)) == sorted(RATINGS)
    with (seeds / "rating_measures.csv").open() as handle:
        rated = [r["measure_code"] for r in csv.DictReader(handle)]
    with TARGETS_SEED.open() as handle:
        with_targets = {r["measure_code"] for r in csv.DictReader(handle)}
    assert set(rated) <= set(catalogue_measure_codes()) and set(rated) == with_targets


def test_a_dbt_failure_is_one_line_per_failed_node():
    from orchestration.defs.warehouse import dbt_failures

    run_results = {
        "results": [
            {"unique_id": "model.probation.region_ratings", "status": "success", "message": ""},
            {
                "unique_id": "test.probation.moderation_names_a_rated_region_and_year.5e1",
                "status": "fail",
                "message": "Got 1 result, configured to fail if != 0",
            },
            {
                "unique_id": "unit_test.probation.region_ratings.scores_band_and_moderate",
                "status": "fail",
                "message": "actual differs from expected",
            },
            {
                "unique_id": "model.probation.stg_targets",
                "status": "error",
                "message": "Runtime Error in model stg_targets\n  Conversion Error:\n  x",
            },
        ]
    }
    assert dbt_failures(run_results) == [
        "dbt test moderation_names_a_rated_region_and_year fail: Got 1 result, configured to "
        "fail if != 0",
        "dbt unit_test scores_band_and_moderate fail: actual differs from expected",
        "dbt model stg_targets error: Runtime Error in model stg_targets Conversion Error: x",
    ]

"""The whole pipeline in process: publication, the quality gate, the analyst snapshot, the CLI."""

import csv
import shutil

import duckdb
import pytest

import orchestration.publication.tables as publication
from orchestration.cli import main
from orchestration.running.runner import run_pipeline
from orchestration.settings import Settings
from tests.helpers import run_assets_on_a_copy

pytestmark = pytest.mark.pipeline


def read_csv(path):
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_april_to_june_2021_never_reaches_publication(fixture_run, warehouse):
    settings, summary = fixture_run
    assert summary.edition == "2021-05" and summary.held == []
    folder = settings.staging_dir / "2021-05" / "csv"
    national = read_csv(folder / "national_monthly.csv")
    regional = read_csv(folder / "regional_quarterly.csv")
    unification = [r for r in national if r["period"] in ("2021-04", "2021-05")]
    published_measures = warehouse.execute(
        "select count(*) from dim_measures where is_published"
    ).fetchone()[0]
    assert published_measures == 33
    assert len(unification) == 2 * published_measures
    for row in unification + [r for r in regional if r["period"] == "2021 Q2"]:
        assert (row["numerator"], row["denominator"], row["performance_pct"]) == ("",) * 3
        assert (row["count_shorthand"], row["rate_shorthand"]) == ("[x]", "[x]")
        assert row["cell_status"] == "suppressed" and "Unification" in row["quality_reasons"]
    # The marts keep the value: SL004 April nationally is 1 of 1.
    assert warehouse.execute(
        "select numerator, denominator from measure_monthly where measure_code = 'SL004' "
        "and geography_code = 'K04000001' and month = '2021-04-01'"
    ).fetchone() == (1, 1)


def test_every_empty_value_in_the_tidy_files_has_its_shorthand(fixture_run):
    """Numbers stay numeric in the CSV files: an empty value, and only an empty value, has the
    reason in its shorthand column; text columns are never empty."""
    settings, _ = fixture_run
    folder = settings.staging_dir / "2021-05" / "csv"
    symbol_of = {"numerator": "count_shorthand", "denominator": "count_shorthand",
                 "people": "count_shorthand", "performance_pct": "rate_shorthand",
                 "share_pct": "rate_shorthand"}  # fmt: skip
    checked = 0
    for name in ("national_monthly", "regional_quarterly", "accommodation"):
        rows = read_csv(folder / f"{name}.csv")
        assert rows
        for row in rows:
            for column, value in row.items():
                if column in symbol_of:
                    symbol = row[symbol_of[column]]
                    assert (value == "") == (symbol in ("[x]", "[z]", "[c]")), (name, row)
                    checked += value == ""
                elif column == "revision":
                    assert value in ("", "[r]")
                elif not column.endswith("_shorthand"):
                    assert value.strip(), (name, column, row)
    assert checked > 100


def test_analyst_snapshot_holds_the_marts_and_the_load_ledger(fixture_run, warehouse):
    settings, _ = fixture_run
    with duckdb.connect(str(settings.analytics_path), read_only=True) as snapshot:
        tables = {r[0] for r in snapshot.execute("show tables").fetchall()}
        assert {"measure_monthly", "measure_quarterly", "period_quality", "stg_loads"} <= tables
        for table in ("measure_monthly", "period_quality"):
            count = f"select count(*) from {table}"
            assert snapshot.execute(count).fetchone() == warehouse.execute(count).fetchone()
        ledger = snapshot.execute(
            "select source_file, source_revision from stg_loads "
            "where extract = 'contacts' and month_key = '2021-04'"
        ).fetchone()
    assert ledger[0].endswith("contacts_2021-04.csv") and ledger[1] == 1
    assert (settings.analytics_parquet_dir / "measure_monthly.parquet").exists()


def test_rerun_loads_nothing_new_and_gives_the_same_figures(fixture_run):
    settings, _ = fixture_run
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        before = con.execute("select * from measure_monthly order by all").fetchall()
    summary = run_pipeline(settings, quiet=True, log_level="CRITICAL")
    assert summary.loaded == [] and summary.up_to_date == 36 and summary.ok
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.execute("select * from measure_monthly order by all").fetchall() == before


def test_bad_file_fails_its_partition_only_and_the_cli_says_why(landing_copy, tmp_path, capsys):
    bad = landing_copy / "contacts" / "contacts_2021-04.csv"
    lines = bad.read_text().splitlines()
    lines[2] = lines[2].replace("HOME_VISIT", "PHONE")
    bad.write_text("\n".join(lines) + "\n")
    data = tmp_path / "data"

    code = main(["run", "--landing", str(landing_copy), "--data-dir", str(data)])

    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(err) == 1 and err[0].startswith(
        f"error: {bad}: line 3: bad value: column mode = 'PHONE' is not one of "
        "OFFICE, HOME_VISIT, VIDEO, TELEPHONE (earlier outputs unchanged; log: "
    )
    assert "Traceback" not in "\n".join(err)
    loaded = sorted(p.name for p in (data / "raw" / "contacts").glob("*.parquet"))
    assert loaded == ["contacts_2021-03.parquet", "contacts_2021-05.parquet"]
    assert len(list((data / "raw" / "events").glob("*.parquet"))) == 3
    assert not (data / "warehouse.duckdb").exists()  # nothing downstream built on a gap


def test_blocking_gate_holds_an_edition_that_leaks_a_suppressed_value(
    fixture_run, tmp_path, monkeypatch
):
    """Break the masking in the publication code: the gate, which re-reads period_quality,
    must fail and the edition must not be staged (a run of the publication assets on a copy of
    the fixture run's data; the run-level handling of a held edition is in
    test_quality_gate.py)."""
    real_table = publication._cell_table

    def leaky_table(selected, spec):
        return real_table(selected.assign(counts_published=True, value_published=True), spec)

    monkeypatch.setattr(publication, "_cell_table", leaky_table)
    result = run_assets_on_a_copy(
        fixture_run[0], tmp_path, monkeypatch, ["publication_tables", "edition_files"]
    )
    (gate,) = result.get_asset_check_evaluations()
    assert not gate.passed and "suppressed period" in gate.description
    assert not result.asset_materializations_for_node("edition_files")
    assert not (tmp_path / "data" / "staging" / "2021-05").exists()


def test_cli_usage_errors_are_one_line(capsys, tmp_path):
    assert main(["demo-data", "--inject", "bogus", "--out", str(tmp_path)]) == 2
    assert main(["run", "--landing", str(tmp_path / "nowhere")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("error: ") for line in lines)


def test_no_delivery_in_the_months_asked_is_a_usage_error(landing_copy, tmp_path, capsys):
    data = tmp_path / "data"
    args = ["run", "--landing", str(landing_copy), "--data-dir", str(data)]
    assert main([*args, "--start", "2022-01"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == f"error: {landing_copy}: no deliveries from 2022-01 to the last month"
    assert not data.exists()  # refused before any work


def test_version_names_the_tools(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("probation-pipeline ") and "Dagster 1.13" in out and "DuckDB" in out


def test_an_edition_for_a_month_without_data_is_refused_before_any_work(
    landing_copy, tmp_path, capsys
):
    data = tmp_path / "data"
    args = ["run", "--landing", str(landing_copy), "--data-dir", str(data), "--edition", "2030-01"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: --edition 2030-01: no data for that month (data runs from 2021-03 to "
                   "2021-05)"]  # fmt: skip
    assert not (data / "raw").exists()


def test_a_ui_run_of_the_publication_for_a_month_without_data_fails_with_one_line(
    fixture_run, tmp_path, monkeypatch
):
    result = run_assets_on_a_copy(
        fixture_run[0], tmp_path, monkeypatch, ["publication_tables"],
        run_config={"ops": {"publication_tables": {"config": {"edition": "2030-01"}}}},
    )  # fmt: skip
    failures = [e.step_failure_data.user_failure_data for e in result.all_events
                if e.is_step_failure]  # fmt: skip
    assert [f.description for f in failures] == [
        "edition 2030-01: no data for that month (data runs from 2021-03 to 2021-05)"
    ]
    assert not (tmp_path / "data" / "staging" / "2030-01").exists()


@pytest.mark.parametrize("args", [["run", "--start", "2021-13"], ["run", "--end", "21-01"]])
def test_cli_rejects_malformed_months(args, capsys):
    assert main(args) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "is not a month YYYY-MM" in lines[0]


def test_a_redelivery_revises_the_figures_on_the_next_run(fixture_run, tmp_path):
    """On a copy of the fixture run's data: April's contacts are re-delivered (written into the
    fixture run's landing zone for this run only) and the next run loads just that file."""
    loaded = fixture_run[0]
    shutil.copytree(loaded.data_dir, tmp_path / "data")
    settings = Settings.from_env(loaded.landing_dir, tmp_path / "data")

    def sl004_april_london():
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            return con.execute(
                "select numerator, denominator from measure_monthly where measure_code = 'SL004' "
                "and geography_code = 'N07' and month = '2021-04-01'"
            ).fetchone()

    assert sl004_april_london() == (1, 1)
    # April's contacts are re-delivered without E7's appointment: SL004 for April drops to 0/1.
    contacts = settings.landing_dir / "contacts"
    original = (contacts / "contacts_2021-04.csv").read_text().splitlines()
    revised = [line for line in original if not line.startswith("C11,")]
    redelivery = contacts / "contacts_2021-04_r2.csv"
    redelivery.write_text("\n".join(revised) + "\n")
    try:
        second = run_pipeline(settings, quiet=True, log_level="CRITICAL")
    finally:
        redelivery.unlink()
    assert second.ok and second.loaded == [("contacts", "2021-04")]
    assert sl004_april_london() == (0, 1)

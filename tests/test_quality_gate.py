"""The quality gate end to end, on generated demo data run through the real pipeline.

One demo landing zone (scale 0.02, January 2021 to March 2022, with the built-in April-June 2021
unification defects) gets eight injected defects of every kind, in different regions and months
inside the edition 2022-03's window. It is run once; the tests then work on copies of its data
folder:
- every injected region-month is flagged by the rule of its kind, and no untouched region-month
  after June 2021 is flagged;
- the unification quarter is flagged by the data-driven rules with the known-period seed emptied;
- the edition is held by unreviewed flags while the marts and the analyst snapshot are rebuilt;
- reviewed decisions release it (publish) or mask cells with [x] (suppress);
- a run selecting only the publication assets cannot publish over an unreviewed flag.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess

import dagster as dg
import duckdb
import pandas as pd
import pytest

from orchestration.cli import main
from orchestration.defs.ingest import ingest_selection
from orchestration.demo import parse_defect
from orchestration.demo.defects import UNIFICATION_DEFECTS
from orchestration.running.runner import load_definitions
from orchestration.settings import DBT_PROJECT_DIR, Settings
from orchestration.warehouse.dbt_project import dbt_executable
from orchestration.warehouse.quality import read_flags, read_profiles
from schemas.contracts import REGION_CODES
from tests.demo_scenario import BLOCKING, EDITION, HOLDING, INJECTED, NOT_APPLICABLE_FLAGS

pytestmark = pytest.mark.pipeline

NATIONAL = "K04000001"


def copy_of(settings: Settings, tmp_path) -> Settings:
    """A private copy of the run's data folder (the warehouse, raw Parquet, flags)."""
    shutil.copytree(settings.data_dir, tmp_path / "data")
    return Settings.from_env(settings.landing_dir, tmp_path / "data")


def query(path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).df()


def read_csv(path) -> list[dict]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_injected_defects_are_flagged_and_clean_region_months_are_not(demo_run):
    settings, _ = demo_run
    flags = read_flags(settings)
    flags["ym"] = flags["month"].astype(str).str.slice(0, 7)
    extract_flags = flags[flags["subject_type"] == "EXTRACT"]
    found = set(zip(extract_flags["subject"], extract_flags["geography_code"],
                    extract_flags["ym"], extract_flags["rule"], strict=True))  # fmt: skip
    injected = set()
    for spec, rule in INJECTED.items():
        defect = parse_defect(spec)
        injected.add((defect.extract, defect.region, defect.month))
        assert (defect.extract, defect.region, defect.month, rule) in found, spec

    after_unification = extract_flags[extract_flags["ym"] > "2021-06"]
    unexpected = [
        r.flag_id
        for r in after_unification.itertuples()
        if (r.subject, r.geography_code, r.ym) not in injected
    ]
    assert unexpected == []
    # A measure may jump because an extract it reads was damaged, never otherwise.
    measure_flags = flags[(flags["subject_type"] == "MEASURE") & (flags["ym"] > "2021-06")]
    damaged_months = {m for _, _, m in injected}
    assert set(measure_flags["ym"]) <= damaged_months
    # The clean region-months were there to be judged: profiled, with rows, and with history.
    profiles = read_profiles(settings)
    later = profiles[profiles["month"] > "2021-06"]
    keys = zip(later["extract"], later["region_code"], later["month"], strict=True)
    clean = later[[key not in injected for key in keys]]
    assert len(clean) == 9 * 11 * 12 + 9 - len(injected)  # 11 regional extracts, persons
    assert (clean["rows_loaded"] > 0).mean() > 0.8  # small extracts have empty months


def test_unification_quarter_is_caught_without_the_known_period_seed(demo_run, tmp_path):
    """Empty the known-period seed in a copy of the warehouse, rebuild period_quality with dbt:
    the damaged regions and England and Wales still come out WARN in April-June 2021."""
    settings = copy_of(demo_run[0], tmp_path)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("delete from known_quality_periods")
    env = {**os.environ, **settings.dbt_env(), "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR)}
    result = subprocess.run(
        [dbt_executable(), "run", "--select", "period_quality", "--quiet"],
        cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    quality = query(
        settings.warehouse_path,
        "select subject_type, subject, geography_code, strftime(month, '%Y-%m') as month, "
        "status, reasons from period_quality where month between '2021-04-01' and '2021-06-01'",
    ).set_index(["subject_type", "subject", "geography_code", "month"])
    assert not quality["reasons"].str.contains("known_period").any()  # the seed is gone

    readers = {"contacts": ["SL004", "SL005"], "accommodation_checks": ["SL014"]}
    for spec, _ in UNIFICATION_DEFECTS:
        regions = [spec.region] if spec.region else list(REGION_CODES)
        for region in regions:
            for geography in (region, NATIONAL):
                key = ("EXTRACT", spec.extract, geography, spec.month)
                assert quality.loc[key, "status"] == "WARN", (spec.label, geography)
                for measure in readers.get(spec.extract, []):
                    status = quality.loc[("MEASURE", measure, geography, spec.month), "status"]
                    assert status == "WARN", (spec.label, measure, geography)
    national_sl004 = [quality.loc[("MEASURE", "SL004", NATIONAL, m), "status"]
                      for m in ("2021-04", "2021-05", "2021-06")]  # fmt: skip
    assert national_sl004 == ["WARN"] * 3
    # An untouched region and measure in the quarter stays OK.
    assert quality.loc[("MEASURE", "SL014", "N03", "2021-04"), "status"] == "OK"


def test_unreviewed_flags_hold_the_edition_but_the_marts_and_snapshot_are_built(demo_run):
    settings, summary = demo_run
    assert summary.refreshed and summary.edition == EDITION
    assert len(summary.held) == 1 and "unreviewed quality flag" in summary.held[0]
    assert all(flag in summary.held[0] for flag in HOLDING)
    assert not any(flag in summary.held[0] for flag in NOT_APPLICABLE_FLAGS)  # cells are [z]
    assert not (settings.staging_dir / EDITION).exists()
    snapshot = query(
        settings.analytics_path,
        "select count(*) as n from period_quality where status = 'WARN' "
        "and unreviewed_flag_ids like '%row_count:contacts:N07:2021-10%'",
    )
    assert snapshot["n"].iloc[0] > 0  # analysts see the flag in the snapshot
    flags = query(settings.analytics_path, "select * from data_quality_flags")
    assert set(flags["flag_id"]) >= BLOCKING


def test_flags_command_lists_flags_and_review_state(demo_run, tmp_path, capsys, monkeypatch):
    settings = copy_of(demo_run[0], tmp_path)
    monkeypatch.delenv("PROBATION_REVIEWS_FILE", raising=False)
    assert main(["flags", "--data-dir", str(settings.data_dir), "--unreviewed"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:5] == ["FLAG_ID", "RULE", "SUBJECT", "GEOGRAPHY", "MONTH"]
    assert "row_count:contacts:N07:2021-10" in out and "unreviewed" in out
    settings.reviews_path.write_text(
        "flag_id,decision,reason,reviewer,reviewed_on\n"
        "row_count:contacts:N07:2021-10,publish,Region confirmed a system outage,A Stat,"
        "2022-04-20\n"
    )
    assert main(["flags", "--data-dir", str(settings.data_dir), "--status", "OK"]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("row_count:contacts:N07:2021-10"))
    assert "publish (A Stat, 2022-04-20) *" in line
    assert main(["flags", "--data-dir", str(settings.data_dir), "--status", "OK", "--json"]) == 0
    (flag,) = [f for f in json.loads(capsys.readouterr().out) if f["flag_id"] in line]
    assert flag["review"] == "publish (A Stat, 2022-04-20)" and flag["pending"] is True
    assert (flag["decision"], flag["reviewer"], flag["reviewed_on"]) == (
        "publish", "A Stat", "2022-04-20"
    )  # fmt: skip
    assert flag["month"] == "2021-10" and flag["status"] == "OK"
    settings.reviews_path.write_text("flag_id,decision\nx,publish\n")
    assert main(["flags", "--data-dir", str(settings.data_dir)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "line 1: missing column reason" in err[0]


def test_reviewed_decisions_release_the_edition(reviewed_demo):
    """Publish every blocking flag but one, which is suppressed: the edition is staged, the
    suppressed region's contacts-based cells (and England and Wales's) are [x], a published
    flag leaves its reason."""
    settings, summary = reviewed_demo
    assert summary.failures == [] and summary.held == [] and summary.loaded == []
    folder = settings.staging_dir / EDITION / "csv"
    national = {
        (r["measure_code"], r["period"]): r for r in read_csv(folder / "national_monthly.csv")
    }
    regional = {
        (r["measure_code"], r["geography_code"], r["period"]): r
        for r in read_csv(folder / "regional_quarterly.csv")
    }
    for cell in (national[("SL004", "2021-10")], regional[("SL004", "N07", "2021 Q4")],
                 regional[("SL005", "N07", "2021 Q4")]):  # fmt: skip
        assert (cell["numerator"], cell["count_shorthand"]) == ("", "[x]")
        assert cell["cell_status"] == "suppressed"
        assert "Contacts lost in a migration" in cell["quality_reasons"]
    assert regional[("SL014", "N07", "2021 Q4")]["cell_status"] != "suppressed"  # no contacts
    published = regional[("SL014", "N51", "2021 Q4")]
    assert published["cell_status"] != "suppressed"
    assert "Checked with the region" in published["quality_reasons"]
    # Target attainment leaves the suppressed month out of London's year, and only London's.
    attainment = query(
        settings.warehouse_path,
        "select a.geography_code, a.months_counted, a.months_suppressed, a.numerator, "
        "a.denominator, (select sum(numerator) from measure_monthly m where m.measure_code = "
        "'SL004' and m.geography_code = a.geography_code and m.month between '2021-10-01' and "
        "'2022-03-01' and m.month <> '2021-10-01') as without_october "
        "from target_attainment a where a.measure_code = 'SL004' and a.period = '2021-22' "
        "and a.geography_code in ('N07', 'N03')",
    ).set_index("geography_code")
    assert attainment.loc["N07", ["months_counted", "months_suppressed"]].tolist() == [5, 1]
    assert attainment.loc["N07", "numerator"] == attainment.loc["N07", "without_october"]
    assert attainment.loc["N03", ["months_counted", "months_suppressed"]].tolist() == [6, 0]


def test_a_held_edition_is_a_successful_run_a_warning_and_one_alert(
    demo_run, tmp_path, monkeypatch
):
    """The gate's decision is an outcome, not a fault: the run succeeds, the gate check warns,
    nothing is staged, and the alert names the edition and the flags that hold it. A run of
    the publication assets alone cannot publish an unreviewed cell either."""
    from orchestration.defs.automation import edition_held_alert
    from orchestration.resources import NotifierResource, PipelineResource
    from tests.receivers import webhook_receiver

    settings = copy_of(demo_run[0], tmp_path)
    monkeypatch.setenv("PROBATION_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PROBATION_LANDING_DIR", str(settings.landing_dir))
    monkeypatch.delenv("PROBATION_REVIEWS_FILE", raising=False)
    job = load_definitions().resolve_job_def("refresh_job")
    instance = dg.DagsterInstance.ephemeral()

    with_gate = job.execute_in_process(
        asset_selection=[dg.AssetKey("publication_tables"), dg.AssetKey("edition_files")],
        instance=instance,
        raise_on_error=False,
    )
    assert with_gate.success  # held is not red
    (check,) = with_gate.get_asset_check_evaluations()
    assert check.check_name == "publication_respects_quality_gate" and not check.passed
    assert check.severity == dg.AssetCheckSeverity.WARN
    assert check.description.startswith(f"edition {EDITION} held: ")
    assert set(check.metadata["unreviewed_flags"].value) == HOLDING
    assert not with_gate.asset_materializations_for_node("edition_files")

    (success,) = instance.all_logs(with_gate.run_id, of_type=dg.DagsterEventType.RUN_SUCCESS)
    with webhook_receiver() as (url, posted):
        edition_held_alert(
            dg.build_run_status_sensor_context(
                sensor_name="edition_held_alert",
                dagster_event=success.dagster_event,
                dagster_instance=instance,
                dagster_run=instance.get_run_by_id(with_gate.run_id),
                resources={
                    "notifier": NotifierResource(webhook_url=url),
                    "pipeline": PipelineResource(),
                },
            )
        )
    (alert,) = posted
    assert alert["kind"] == "edition_held" and alert["edition"] == EDITION
    assert alert["line"] == check.description and set(alert["flags"]) == HOLDING

    files_only = job.execute_in_process(  # even without the gate check in the selection
        asset_selection=[dg.AssetKey("edition_files")],
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not files_only.asset_materializations_for_node("edition_files")
    assert not (settings.staging_dir / EDITION).exists()


def test_ingest_asset_checks_report_the_flagged_regions(demo_run, tmp_path, monkeypatch):
    settings = copy_of(demo_run[0], tmp_path)
    monkeypatch.setenv("PROBATION_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PROBATION_LANDING_DIR", str(settings.landing_dir))
    result = (
        load_definitions()
        .resolve_job_def("ingest_job")
        .get_subset(**ingest_selection(["contacts"]))
        .execute_in_process(
            partition_key="2021-10",
            instance=dg.DagsterInstance.ephemeral(),
            raise_on_error=False,
        )
    )
    assert result.success  # a flagged month still loads: the checks are warnings
    (check,) = result.get_asset_check_evaluations()  # one per extract-month, every rule in it
    assert check.check_name == "quality_rules" and check.partition == "2021-10"
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["rules_flagged"].value == "row_count"  # the other rules passed
    assert check.metadata["regions_flagged"].value == {"row_count": ["N07"]}
    assert "rows loaded against a trailing median" in check.description
    rules = check.metadata["rules"].value  # each rule's verdict, the passed ones too
    for rule in ("region_missing", "duplicate_keys", "null_required", "outside_partition",
                 "in_person_share"):  # fmt: skip
        assert f"| {rule} | passed |" in rules

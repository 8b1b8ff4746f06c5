"""Edition windows and the gate's own check of candidate tables."""

import csv
from datetime import date

import pandas as pd

from orchestration.publication.dictionary import data_dictionary, dbt_column_docs
from orchestration.publication.gate import gate_violations
from orchestration.publication.tables import edition_window, percent, period_name
from orchestration.settings import DBT_PROJECT_DIR
from orchestration.warehouse.dbt_project import ensure_manifest
from schemas.published import EDITION_TABLES


def test_default_window_is_15_months_and_5_complete_quarters():
    window = edition_window("2025-03")
    assert window.months[0] == "2024-01" and window.months[-1] == "2025-03"
    assert len(window.months) == 15
    assert window.quarters == (
        date(2024, 1, 1),
        date(2024, 4, 1),
        date(2024, 7, 1),
        date(2024, 10, 1),
        date(2025, 1, 1),
    )


def test_first_post_unification_edition_is_9_months_and_3_quarters():
    window = edition_window("2022-03")
    assert window.months == (
        "2021-07", "2021-08", "2021-09", "2021-10", "2021-11", "2021-12",
        "2022-01", "2022-02", "2022-03",
    )  # fmt: skip
    assert window.quarters == (date(2021, 7, 1), date(2021, 10, 1), date(2022, 1, 1))


def test_mid_quarter_edition_publishes_complete_quarters_only():
    window = edition_window("2025-05")
    assert window.quarters[-1] == date(2025, 1, 1)
    assert edition_window("2025-01").quarters[-1] == date(2024, 10, 1)


def _quality(status):
    return pd.DataFrame(
        {
            "subject_type": ["MEASURE"],
            "subject": ["SL004"],
            "geography_code": ["K04000001"],
            "month": pd.to_datetime(["2021-05-01"]),
            "status": [status],
            "reasons": ["x"],
        }
    )


def _national(value, status="published"):
    return pd.DataFrame(
        {
            "measure_code": ["SL004"], "geography_code": ["K04000001"], "period": ["2021-05"],
            "numerator": [value], "denominator": [value], "performance_pct": [value],
            "cell_status": [status],
        }
    )  # fmt: skip


def test_gate_flags_a_value_in_a_suppressed_period():
    problems = gate_violations({"national_monthly": _national(3)}, _quality("SUPPRESS"))
    assert len(problems) == 4 and "suppressed period" in problems[0]


def test_gate_passes_masked_cells_and_unsuppressed_values():
    masked = _national(None, "suppressed")
    assert gate_violations({"national_monthly": masked}, _quality("SUPPRESS")) == []
    assert gate_violations({"national_monthly": _national(3)}, _quality("CAVEAT")) == []


def test_gate_flags_a_cell_without_a_quality_status():
    empty = _quality("OK").iloc[0:0]
    assert (
        "no period_quality status" in gate_violations({"national_monthly": _national(3)}, empty)[0]
    )


def test_percentages_round_half_up_from_the_exact_fraction():
    assert percent(None, 1, 16) == 6.3  # 6.25: half up (banker's rounding would give 6.2)
    assert percent(None, 49, 400) == 12.3  # 12.25
    assert percent(None, 1, 3) == 33.3 and percent(None, 2, 3) == 66.7
    assert percent(0.0625) == 6.3 and percent(None) is None and percent(float("nan")) is None
    assert percent(None, 0, 5) == 0.0 and percent(None, 5, 5) == 100.0


def test_periods_are_written_out_as_the_guidance_asks():
    assert period_name("2024-01", "MONTH") == "January 2024"
    assert period_name("2024 Q1", "QUARTER") == "Jan to Mar 2024"
    assert period_name("2024 Q4", "QUARTER") == "Oct to Dec 2024"
    assert period_name("2010-11", "PERFORMANCE_YEAR") == "April 2010 to March 2011"


def test_an_edition_covers_the_performance_years_its_months_touch():
    assert edition_window("2025-03").years == ("2023-24", "2024-25")
    assert edition_window("2022-03").years == ("2021-22",)
    assert edition_window("2022-03").quarter_codes == ("2021 Q3", "2021 Q4", "2022 Q1")


def test_python_and_dbt_agree_on_notes_and_every_published_column_is_documented():
    seeds = DBT_PROJECT_DIR / "seeds"
    with (seeds / "publication" / "publication_notes.csv").open() as handle:
        notes = {r["note_key"] for r in csv.DictReader(handle)}
    with (seeds / "known_quality_periods.csv").open() as handle:
        known = {r["note_key"] for r in csv.DictReader(handle)}
    used = {key for spec in EDITION_TABLES.values() for key in spec.notes}
    assert used | known | {"QUALITY_REVIEW"} <= notes
    docs = dbt_column_docs(ensure_manifest())
    dictionary = data_dictionary(list(EDITION_TABLES.values()), docs)
    assert len(dictionary) == sum(len(spec.columns) for spec in EDITION_TABLES.values())
    sheets = [spec.sheet for spec in EDITION_TABLES.values()]
    assert len(set(sheets)) == len(sheets) and all(len(s) <= 31 and " " not in s for s in sheets)


def test_python_and_dbt_agree_on_the_extract_of_each_circumstances_table():
    from orchestration.publication.tables import CIRCUMSTANCE_EXTRACTS

    sql = (DBT_PROJECT_DIR / "models" / "intermediate" / "int_circumstance_periods.sql").read_text()
    for table, extract in CIRCUMSTANCE_EXTRACTS.items():
        assert f"'{table.upper()}' as topic, '{extract}' as extract" in sql

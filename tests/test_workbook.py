"""The staged edition read back as a reader gets it: the ODS workbook (the cells pandas' odfpy
reader gives, read from the XML by orchestration/publication/ods_reader.py),
the tidy files and the data dictionary, from real pipeline runs: the fixture months (edition
2021-05, inside the unification quarter) and the reviewed demo (edition 2022-03, the first
post-unification edition, with one region-month suppressed by the statistician)."""

from __future__ import annotations

import json
import re
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from orchestration.publication.ods_reader import read_ods
from orchestration.publication.workbook import SHORTHAND_COLUMNS, find_soffice
from schemas.published import EDITION_TABLES
from tests.helpers import run_assets_on_a_copy

pytestmark = pytest.mark.pipeline

SOFFICE = find_soffice(None)
needs_ods = pytest.mark.skipif(
    SOFFICE is None,
    reason="LibreOffice (soffice) is not installed: `make setup` run as root installs it",
)
TABLE_SHEETS = [spec.sheet for spec in EDITION_TABLES.values()]
NOTE = re.compile(r"\[note (\d+)\]")


def staged(settings, edition: str) -> Path:
    return settings.staging_dir / edition


def read_book(path: Path) -> dict[str, pd.DataFrame]:
    """The sheets as pandas' ODS reader (odfpy) gives them, read from the XML (the same frames:
    test_the_fast_ods_reader_gives_what_pandas_gives)."""
    return read_ods(path)


def table_of(sheet: pd.DataFrame, first_header: str) -> pd.DataFrame:
    """The marked-up table of a sheet: the rows under its header row."""
    header_row = sheet.index[sheet[0].astype(str).eq(first_header)][0]
    table = sheet.iloc[header_row + 1 :].copy()
    table.columns = list(sheet.iloc[header_row])
    return table.reset_index(drop=True)


def spec_table(book, name: str) -> pd.DataFrame:
    spec = EDITION_TABLES[name]
    return table_of(book[spec.sheet], spec.columns[0].header)


def query(settings, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(sql).df()


def half_up(numerator: int, denominator: int) -> float:
    exact = Decimal(int(numerator)) * 100 / Decimal(int(denominator))
    return float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


@pytest.fixture(scope="module")
def fixture_book(fixture_run):
    settings, summary = fixture_run
    return settings, read_book(staged(settings, "2021-05") / "probation-performance-2021-05.ods")


@pytest.fixture(scope="module")
def demo_book(reviewed_demo):
    settings, summary = reviewed_demo
    assert summary.edition == "2022-03" and summary.held == []
    return settings, read_book(staged(settings, "2022-03") / "probation-performance-2022-03.ods")


@needs_ods
@pytest.mark.parametrize("book", ["fixture_book", "demo_book"])
def test_sheets_cover_contents_and_titles(book, request):
    settings, sheets = request.getfixturevalue(book)
    assert list(sheets) == ["Cover", "Contents", "Notes", *TABLE_SHEETS]
    assert sheets["Cover"].iloc[0, 0].startswith("Probation performance statistics: ")
    cover = " ".join(sheets["Cover"][0].dropna().astype(str))
    for words in ("Statistical status: Official statistics in development", "Published:",
                  "Next update:", "Source:", "Email:", "[x]", "[z]", "[c]", "[p]"):  # fmt: skip
        assert words in cover, words
    contents = table_of(sheets["Contents"], "Sheet name")
    assert contents["Sheet name"].tolist() == TABLE_SHEETS
    for spec in EDITION_TABLES.values():
        title = sheets[spec.sheet].iloc[0, 0]
        assert title.startswith(spec.title.split("{")[0].rstrip(", ")), (spec.sheet, title)


@needs_ods
@pytest.mark.parametrize("book", ["fixture_book", "demo_book"])
def test_no_blank_or_merged_cell_in_any_table(book, request):
    settings, sheets = request.getfixturevalue(book)
    for spec in EDITION_TABLES.values():
        table = spec_table(sheets, spec.name)
        assert list(table.columns) == [c.header for c in spec.columns
                                       if c.name not in SHORTHAND_COLUMNS]  # fmt: skip
        blank = table.isna() | table.astype(str).apply(lambda c: c.str.strip().eq(""))
        assert not blank.any().any(), (spec.sheet, table[blank.any(axis=1)].head())
    notes = table_of(sheets["Notes"], "Note number")
    assert not notes.isna().any().any()
    edition = "2021-05" if book == "fixture_book" else "2022-03"
    ods = staged(settings, edition) / f"probation-performance-{edition}.ods"
    content = zipfile.ZipFile(ods).read("content.xml").decode()
    assert "number-columns-spanned" not in content and "number-rows-spanned" not in content


@needs_ods
@pytest.mark.parametrize("book", ["fixture_book", "demo_book"])
def test_x_exactly_where_period_quality_suppresses_or_a_cell_is_not_yet_complete(book, request):
    settings, sheets = request.getfixturevalue(book)
    quality = query(
        settings,
        "select subject as measure_code, geography_code, strftime(month, '%Y-%m') as month, "
        "strftime(month, '%Y') || ' Q' || quarter(month) as quarter, status "
        "from period_quality where subject_type = 'MEASURE'",
    )
    monthly = quality.set_index(["measure_code", "geography_code", "month"])["status"]
    quarterly = quality.groupby(["measure_code", "geography_code", "quarter"])["status"].apply(
        lambda s: s.eq("SUPPRESS").any()
    )
    # ... or where the mart says a provisional cell is not yet complete (most cases still open)
    incomplete = set(
        query(
            settings,
            "select subject, geography_code, period from publication_cells "
            "where table_group = 'MEASURE' and cell_status = 'not yet complete'",
        ).itertuples(index=False, name=None)
    )
    national = spec_table(sheets, "national_monthly")
    suppressed = [
        monthly[(r["Measure code"], r["Geography code"], r["Period code"])] == "SUPPRESS"
        for _, r in national.iterrows()
    ]
    expected = [
        s or (r["Measure code"], r["Geography code"], r["Period code"]) in incomplete
        for s, (_, r) in zip(suppressed, national.iterrows(), strict=True)
    ]
    assert national["Numerator (cases)"].eq("[x]").tolist() == expected
    assert national["Performance (%)"].eq("[x]").tolist() == expected
    regional = spec_table(sheets, "regional_quarterly")
    suppressed = [
        bool(quarterly[(r["Measure code"], r["Geography code"], r["Period code"])])
        for _, r in regional.iterrows()
    ]
    expected = [
        s or (r["Measure code"], r["Geography code"], r["Period code"]) in incomplete
        for s, (_, r) in zip(suppressed, regional.iterrows(), strict=True)
    ]
    assert regional["Denominator (cases)"].eq("[x]").tolist() == expected
    if book == "fixture_book":  # the unification months
        assert (
            national["Period code"][national["Numerator (cases)"].eq("[x]")]
            .isin(["2021-04", "2021-05"])
            .all()
            and sum(suppressed) == 0
        )
    else:  # the statistician suppressed London's contacts in October 2021: SL004 among them
        rows = regional[regional["Numerator (cases)"].eq("[x]").to_numpy() & np.array(suppressed)]
        assert set(rows["Geography code"]) == {"N07", "K04000001"}
        assert set(rows["Period code"]) == {"2021 Q4"} and "SL004" in set(rows["Measure code"])


@needs_ods
def test_values_equal_the_marts_after_rounding_half_up(demo_book):
    settings, sheets = demo_book
    cells = query(
        settings,
        "select subject, geography_code, period, numerator, denominator, cell_status "
        "from publication_cells where table_group = 'MEASURE'",
    ).set_index(["subject", "geography_code", "period"])
    compared = 0
    for name in ("national_monthly", "regional_quarterly"):
        table = spec_table(sheets, name)
        for _, r in table.iterrows():
            mart = cells.loc[(r["Measure code"], r["Geography code"], r["Period code"])]
            if r["Numerator (cases)"] in ("[x]", "[z]"):
                continue
            assert (r["Numerator (cases)"], r["Denominator (cases)"]) == (
                mart["numerator"],
                mart["denominator"],
            )
            if mart["denominator"] > 0:
                assert r["Performance (%)"] == half_up(mart["numerator"], mart["denominator"])
                compared += 1
            assert r["Figure status"].lower().startswith(mart["cell_status"])
    assert compared > 500
    # The tidy CSV says the same as the workbook.
    csv = pd.read_csv(staged(settings, "2022-03") / "csv" / "national_monthly.csv")
    shown = spec_table(sheets, "national_monthly")["Performance (%)"]
    from_csv = csv["performance_pct"].where(csv["performance_pct"].notna(), csv["rate_shorthand"])
    assert shown.tolist() == from_csv.tolist()


@needs_ods
def test_c_where_counts_are_small_and_only_through_disclosure_control(demo_book):
    settings, sheets = demo_book
    table = spec_table(sheets, "accommodation")
    truth = query(
        settings,
        "select subject as checkpoint, breakdown, breakdown_value, category, period, numerator "
        "as people from publication_cells where table_group = 'ACCOMMODATION'",
    ).set_index(["checkpoint", "breakdown", "breakdown_value", "category", "period"])["people"]
    disclosure = query(
        settings,
        "select checkpoint, breakdown, breakdown_value, category, period, confidential, "
        "suppression from int_circumstance_disclosure_audit where topic = 'ACCOMMODATION'",
    ).set_index(["checkpoint", "breakdown", "breakdown_value", "category", "period"])
    small = hidden = secondary = 0
    for _, r in table.iterrows():
        key = (r["Checkpoint code"], r["Breakdown code"], r["Group code"],
               r["Accommodation status code"], r["Period code"])  # fmt: skip
        people, shown = truth[key], r["People (number)"]
        if 1 <= people < 5:
            assert shown == "[c]", key
            small += 1
        if shown == "[c]":
            hidden += 1
            assert disclosure.loc[key, "confidential"]
            secondary += disclosure.loc[key, "suppression"] != "primary"
        else:
            assert shown == people, key
    assert small > 50 and secondary > 0 and hidden == small + secondary


@needs_ods
def test_a_hidden_count_cannot_be_worked_out_from_the_published_table(demo_book):
    """For every published circumstances table (topic, checkpoint, quarter), the hidden counts
    satisfy the row equations (a group's statuses add up to its total) and column equations (a
    breakdown's groups add up to England and Wales) with the published cells as constants. A
    hidden count is worked out exactly only if its unit vector lies in the row space of those
    equations' hidden part: it never does."""
    settings, sheets = demo_book
    tables = 0
    for name in ("accommodation", "employment"):
        table = spec_table(sheets, name)
        for (_, _), cells in table.groupby(["Period code", "Checkpoint code"]):
            hidden = cells.index[cells["People (number)"].eq("[c]")].tolist()
            if not hidden:
                continue
            position = {index: i for i, index in enumerate(hidden)}
            national = cells[cells["Breakdown code"].eq("NATIONAL")]
            rows = cells.groupby(["Breakdown code", "Group code"])
            equations = [group.index for _, group in rows]
            for breakdown, group in cells.groupby("Breakdown code"):
                if breakdown == "NATIONAL":
                    continue
                code = f"{name.title()} status code"
                for status, column in group.groupby(code):
                    equations.append(column.index.append(national.index[national[code].eq(status)]))
            matrix = np.zeros((len(equations), len(hidden)))
            for row, members in enumerate(equations):
                for index in members:
                    if index in position:
                        matrix[row, position[index]] = 1
            rank = np.linalg.matrix_rank(matrix)
            for i, index in enumerate(hidden):
                unit = np.zeros(len(hidden))
                unit[i] = 1
                recoverable = np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank
                assert not recoverable, (name, cells.loc[index].to_dict())
            tables += 1
    assert tables > 10


@needs_ods
@pytest.mark.parametrize("book", ["fixture_book", "demo_book"])
def test_every_note_referenced_exists_on_the_notes_sheet(book, request):
    settings, sheets = request.getfixturevalue(book)
    notes = table_of(sheets["Notes"], "Note number")
    numbers = set(notes["Note number"].astype(int))
    used = set()
    for name, sheet in sheets.items():
        if name == "Notes":
            continue
        for value in sheet.to_numpy().ravel():
            used |= {int(n) for n in NOTE.findall(str(value))}
    assert used and used == numbers
    assert notes["Note text"].str.len().min() > 20
    # Notes sit in titles, never in data cells.
    for spec in EDITION_TABLES.values():
        table = spec_table(sheets, spec.name)
        assert not table.astype(str).apply(lambda c: c.str.contains(r"\[note")).any().any()


@needs_ods
def test_document_title_and_language_are_set(fixture_run):
    settings, _ = fixture_run
    folder = staged(settings, "2021-05")
    meta = zipfile.ZipFile(folder / "probation-performance-2021-05.ods").read("meta.xml").decode()
    assert "<dc:language>en-GB</dc:language>" in meta
    assert re.search(r"<dc:title>Probation performance statistics: May 2021</dc:title>", meta)
    core = zipfile.ZipFile(folder / "probation-performance-2021-05.xlsx").read("docProps/core.xml")
    assert b"<dc:language>en-GB</dc:language>" in core and b"<dc:title>" in core


def test_tidy_files_and_data_dictionary(fixture_run):
    settings, _ = fixture_run
    folder = staged(settings, "2021-05")
    dictionary = pd.read_csv(folder / "data_dictionary.csv")
    assert list(dictionary.columns) == ["file", "column", "type", "unit", "description"]
    for spec in EDITION_TABLES.values():
        csv = pd.read_csv(folder / "csv" / f"{spec.name}.csv")
        parquet = pd.read_parquet(folder / "parquet" / f"{spec.name}.parquet")
        assert list(csv.columns) == list(parquet.columns) == [c.name for c in spec.columns]
        documented = dictionary[dictionary["file"].eq(f"{spec.name}.csv")]
        assert documented["column"].tolist() == list(csv.columns)
    assert dictionary["description"].str.len().min() > 10
    assert (dictionary.loc[dictionary["column"].eq("performance_pct"), "type"] == "decimal").all()
    national = pd.read_parquet(folder / "parquet" / "national_monthly.parquet")
    assert str(national["numerator"].dtype) == "Int64"
    assert str(national["performance_pct"].dtype) == "Float64"
    manifest = json.loads((folder / "edition.json").read_text())
    assert manifest["edition"] == "2021-05"
    assert "data_dictionary.csv" in manifest["files"] and "bulletin.html" in manifest["files"]
    inputs = [name for name in manifest["files"] if name.startswith("inputs/")]
    assert {"inputs/inputs.json", "inputs/publication.toml"} <= set(inputs)
    # every table twice, the workbook twice, bulletin, the two ledgers, dictionary, the inputs
    assert len(manifest["files"]) == 2 * len(EDITION_TABLES) + 6 + len(inputs)


def test_without_libreoffice_the_xlsx_is_staged_and_one_line_says_how_to_get_the_ods(
    fixture_run, tmp_path, monkeypatch
):
    monkeypatch.setenv("PROBATION_SOFFICE", str(tmp_path / "no-such-soffice"))
    result = run_assets_on_a_copy(
        fixture_run[0], tmp_path, monkeypatch, ["publication_tables", "edition_files"]
    )
    assert result.success
    folder = tmp_path / "data" / "staging" / "2021-05"
    assert (folder / "probation-performance-2021-05.xlsx").exists()
    assert not (folder / "probation-performance-2021-05.ods").exists()
    (materialization,) = result.asset_materializations_for_node("edition_files")
    notice = materialization.metadata["ods"].value
    assert notice.startswith("ODS not produced: LibreOffice (soffice) was not found")
    assert "libreoffice-calc-nogui" in notice and "\n" not in notice
    workbook = zipfile.ZipFile(folder / "probation-performance-2021-05.xlsx")
    names = re.findall(r'<sheet name="([^"]+)"', workbook.read("xl/workbook.xml").decode())
    assert names == ["Cover", "Contents", "Notes", *TABLE_SHEETS]


@needs_ods
def test_the_fast_ods_reader_gives_what_pandas_gives(fixture_run):
    settings, _ = fixture_run
    path = staged(settings, "2021-05") / "probation-performance-2021-05.ods"
    fast = read_ods(path)
    slow = pd.read_excel(
        path, sheet_name=None, header=None, engine="odf", keep_default_na=False, na_values=[]
    )
    assert list(fast) == list(slow)
    for name, frame in slow.items():
        pd.testing.assert_frame_equal(fast[name], frame, check_exact=True)

"""The accessible workbook of an edition: gptables writes the XLSX, headless LibreOffice turns it
into ODS (Analysis Function guidance on releasing statistics in spreadsheets).

Sheets: Cover (title in A1, what the tables are, statistical status, source, dates, contact,
caveats, shorthand), Contents, Notes, then one table per sheet with its title in A1. Notes are
referenced as [note N] in titles only, numbered by gptables in order of first use. A value that
is not published shows its shorthand in its cell ([x], [z], [c]); no cell is blank and nothing
is merged. The document's title and language (en-GB) are set in both files.

Where LibreOffice is missing, the XLSX is still written and `convert_to_ods` says how to get
the ODS.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import tomllib
import warnings
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import gptables as gpt
import pandas as pd

from orchestration.atomic import building
from schemas.published import COUNT, PERCENT, SHORTHAND, TableSpec

LANGUAGE = "en-GB"
STATUSES = {
    "published": "Published",
    "provisional": "Provisional [p]",
    "suppressed": "Suppressed [x]",
    "not yet complete": "Not yet complete [x]",
    "not applicable": "Not applicable [z]",
    "confidential": "Confidential [c]",
}
SHORTHAND_COLUMNS = ("count_shorthand", "rate_shorthand", "revision")
ODS_HELP = (
    "install LibreOffice (as root: `make setup`, or `apt-get install libreoffice-calc-nogui`) "
    "and run again, or open the XLSX in a spreadsheet program and save it as ODS"
)


@dataclass(frozen=True)
class Cover:
    """What the Cover sheet says (publication.toml)."""

    title: str
    statistical_status: str
    producer: str
    source: str
    contact_email: str
    next_update: str
    publication_date: str
    caveats: tuple[str, ...]

    @classmethod
    def read(cls, path: Path, threshold: int) -> Cover:
        """The cover of publication.toml (checked by orchestration/configuration.py first);
        {threshold} in a caveat is the disclosure threshold."""
        values = tomllib.loads(path.read_text())
        values["publication_date"] = values.get("publication_date") or date.today().isoformat()
        values["caveats"] = tuple(
            str(c).replace("{threshold}", str(threshold)) for c in values.get("caveats", [])
        )
        return cls(
            **{k: values[k] if k == "caveats" else str(values[k]) for k in cls.__dataclass_fields__}
        )


def sheet_frame(table: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """A table as the workbook shows it: headers in words with units, the shorthand in place of
    every value that is not published, status in words, no blank cell."""
    out = {}
    for column in spec.columns:
        if column.name in SHORTHAND_COLUMNS:
            continue
        values = table[column.name].astype(object)
        if column.name == "cell_status":
            values = values.map(STATUSES)
            if "revision" in table:  # a revised figure says so beside its status
                values = values.where(table["revision"].ne("[r]"), values + ", revised [r]")
        empty = values.isna()
        if column.symbol_column:
            values = values.where(~empty, table[column.symbol_column])
        elif column.empty_symbol:
            values = values.where(~empty, column.empty_symbol)
        out[column.header] = [_plain(v, keep_float=column.kind == PERCENT) for v in values]
    frame = pd.DataFrame(out)
    if frame.empty:  # the sheet stays, so sheet names are stable from edition to edition
        frame.loc[0] = ["[z]"] * len(frame.columns)
    return frame


def _plain(value, keep_float: bool = False):
    """Whole numbers as int (percentages stay float), other numbers as float, text as text."""
    if isinstance(value, str):
        return value
    number = float(value)
    return int(number) if number.is_integer() and not keep_float else number


def number_formats(spec: TableSpec) -> list[dict]:
    """Counts with thousands separators, percentages always with one decimal place."""
    shown = [c for c in spec.columns if c.name not in SHORTHAND_COLUMNS]
    counts = [c.header for c in shown if c.kind == COUNT]
    percents = [c.header for c in shown if c.kind == PERCENT]
    formats = []
    if counts:
        formats.append({"column": {"columns": counts, "format": {"num_format": "#,##0"}}})
    if percents:
        formats.append({"column": {"columns": percents, "format": {"num_format": "0.0"}}})
    return formats


def _refs(keys) -> str:
    return "".join(f"$${key}$$" for key in keys)


def build_xlsx(
    path: Path,
    edition_name: str,
    tables: dict[str, pd.DataFrame],
    specs: dict[str, TableSpec],
    table_notes: dict[str, list[str]],
    periods: dict[str, str],
    notes_text: dict[str, str],
    cover: Cover,
) -> None:
    """Write the workbook as XLSX with gptables, atomically."""
    sheets = {}
    for name, spec in specs.items():
        table = sheet_frame(tables[name], spec)
        subtitles = [spec.description]
        if tables[name].empty:
            subtitles.append("This table has no rows in this edition's window ([z] throughout).")
        sheets[spec.sheet] = gpt.GPTable(
            table=table,
            table_name=spec.name,
            title=spec.title.format(period=periods[name]) + _refs(table_notes[name]),
            subtitles=subtitles,
            instructions="This worksheet contains one table. Shorthand: see the Cover sheet.",
            source=f"Source: {cover.source}",
            additional_formatting=number_formats(spec),
        )
    used = list(dict.fromkeys(k for name in specs for k in table_notes[name]))
    notes = pd.DataFrame({"key": used, "Note text": [notes_text[k] for k in used]})
    title = f"{cover.title}: {edition_name}"
    shorthand = [f"{symbol} {meaning}" for symbol, meaning in SHORTHAND.items()]
    with building(path) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # gptables warns about notes and wide text, not errors
        workbook = gpt.produce_workbook(
            filename=str(tmp),
            sheets=sheets,
            cover=gpt.Cover(
                title=title,
                intro=[
                    "These tables give the performance of the Probation Service in England and "
                    f"Wales against its service levels, in the edition to {edition_name}: "
                    "national figures by month, regional figures by quarter, target attainment, "
                    "regional ratings, inspection ratings, accommodation and employment "
                    "circumstances, and the periods whose quality is caveated or suppressed.",
                    f"Statistical status: {cover.statistical_status}.",
                    f"Published: {cover.publication_date}.",
                    f"Next update: {cover.next_update}",
                    f"Produced by: {cover.producer}.",
                ],
                about=[
                    f"Source: {cover.source}",
                    "Caveats that apply to every table:",
                    *cover.caveats,
                    "Shorthand used in the tables:",
                    *shorthand,
                    "Notes are referenced as [note N] in table titles and listed on the Notes "
                    "sheet. Machine-readable versions of every table (CSV and Parquet, with a "
                    "data dictionary) are published beside this workbook.",
                ],
                contact=[f"Email: {cover.contact_email}"],
            ),
            contentsheet_options={"additional_elements": ["subtitles"]},
            notes_table=notes,
        )
        workbook.set_properties(
            {
                "title": title,
                "subject": "Probation performance statistics",
                "author": cover.producer,
                "keywords": "probation, performance, official statistics",
            }
        )
        workbook.close()
        _set_xlsx_language(tmp)


def _rewrite_zip_member(path: Path, member: str, edit) -> None:
    """Rewrite one member of a zip file (XLSX and ODS are zips) through `edit(text) -> text`."""
    rewritten = path.with_name(path.name + ".zip")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(rewritten, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == member:
                data = edit(data.decode("utf-8")).encode("utf-8")
            compress = zipfile.ZIP_STORED if item.filename == "mimetype" else zipfile.ZIP_DEFLATED
            target.writestr(item, data, compress_type=compress)
    rewritten.replace(path)


def _set_xlsx_language(path: Path) -> None:
    def edit(core: str) -> str:
        if "<dc:language>" in core:
            return core
        return core.replace(
            "</cp:coreProperties>", f"<dc:language>{LANGUAGE}</dc:language></cp:coreProperties>"
        )

    _rewrite_zip_member(path, "docProps/core.xml", edit)


def _set_ods_language(path: Path) -> None:
    def edit(meta: str) -> str:
        meta = re.sub(r"<dc:language>[^<]*</dc:language>", "", meta)
        return meta.replace(
            "</office:meta>", f"<dc:language>{LANGUAGE}</dc:language></office:meta>"
        )

    _rewrite_zip_member(path, "meta.xml", edit)


def find_soffice(configured: str | None) -> str | None:
    """The LibreOffice program: the configured path if it exists, else soffice or libreoffice
    on PATH."""
    if configured:
        return configured if Path(configured).exists() else shutil.which(configured)
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_to_ods(xlsx: Path, soffice: str | None, timeout: int = 300) -> tuple[Path | None, str]:
    """Convert the XLSX beside itself to ODS with headless LibreOffice: (the ODS or None, one
    line saying what happened)."""
    ods = xlsx.with_suffix(".ods")
    if soffice is None:
        return None, f"ODS not produced: LibreOffice (soffice) was not found; {ODS_HELP}"
    with tempfile.TemporaryDirectory() as work:
        workdir = Path(work)
        command = [
            soffice,
            f"-env:UserInstallation=file://{workdir / 'profile'}",
            "--headless",
            "--norestore",
            "--convert-to",
            "ods",
            "--outdir",
            str(workdir / "out"),
            str(xlsx),
        ]
        try:
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            return None, f"ODS not produced: LibreOffice did not finish ({error}); {ODS_HELP}"
        produced = workdir / "out" / ods.name
        if result.returncode != 0 or not produced.exists():
            detail = (result.stderr or result.stdout).strip().splitlines()
            reason = detail[-1] if detail else f"exit code {result.returncode}"
            return None, f"ODS not produced: LibreOffice failed ({reason}); {ODS_HELP}"
        _set_ods_language(produced)
        with building(ods) as tmp:
            shutil.move(str(produced), tmp)
    return ods, f"ODS written: {ods.name}"

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
from datetime import date, datetime, time
from pathlib import Path

import gptables as gpt
import pandas as pd

from orchestration.atomic import building
from orchestration.warehouse.configuration import access_list, announced_date, next_edition
from schemas.published import COUNT, PERCENT, SHORTHAND, TableSpec

LANGUAGE = "en-GB"
UNDATED = date(2000, 1, 1)  # the creation date of an edition not yet in the release calendar
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
    """What the Cover sheet and the bulletin say (publication.toml), for one edition."""

    title: str
    statistical_status: str
    producer: str
    source: str
    contact_email: str
    publication_date: str  # from the release calendar, or "to be announced"
    announced: date | None  # that date (the workbook's creation date), None when not announced
    next_update: str  # the next edition in the release calendar and its date
    pre_release_access: tuple[str, ...]  # who sees the edition before publication, in words
    caveats: tuple[str, ...]

    @classmethod
    def read(cls, path: Path, threshold: int, edition: str) -> Cover:
        """The cover of publication.toml for an edition (checked by
        orchestration/warehouse/configuration.py first); {threshold} in a caveat is the disclosure
        threshold. Nothing here depends on the day it is built."""
        values = tomllib.loads(path.read_text())
        announced = announced_date(values, edition)
        following = next_edition(values, edition)
        return cls(
            title=values["title"],
            statistical_status=values["statistical_status"],
            producer=values["producer"],
            source=values["source"],
            contact_email=values["contact_email"],
            publication_date=day_words(announced) if announced else "to be announced",
            announced=announced,
            next_update=(
                f"{day_words(following[1])} (the edition to {month_words(following[0])})"
                if following
                else "to be announced"
            ),
            pre_release_access=access_sentences(values),
            caveats=tuple(
                str(c).replace("{threshold}", str(threshold)) for c in values.get("caveats", [])
            ),
        )


def day_words(day: date) -> str:
    """A date as GOV.UK writes it: 24 April 2025."""
    return f"{day.day} {day:%B %Y}"


def month_words(month: str) -> str:
    """YYYY-MM in words: February 2025."""
    return date.fromisoformat(f"{month}-01").strftime("%B %Y")


def access_sentences(values: dict) -> tuple[str, ...]:
    """The pre-release access list as published (seed 002's form): a sentence, then one line
    per organisation listing its roles, a count (xN) where more than one person holds it."""
    roles = access_list(values)
    if not roles:
        return ("No one has access to these statistics before they are published.",)
    hours = values["pre_release_access"]["hours"]
    lines = [
        f"Pre-release access of up to {hours} hours is granted to the following persons "
        f"({sum(r['count'] for r in roles)} in all):"
    ]
    for organisation in dict.fromkeys(r["organisation"] for r in roles):
        named = [
            r["role"] + (f" (x{r['count']})" if r["count"] > 1 else "")
            for r in roles
            if r["organisation"] == organisation
        ]
        lines.append(f"{organisation}: {'; '.join(named)}.")
    return tuple(lines)


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
                    f"Next update: {cover.next_update}.",
                    f"Produced by: {cover.producer}.",
                    *cover.pre_release_access,
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
                # the publication date, never the clock: the same edition, the same bytes
                "created": datetime.combine(cover.announced or UNDATED, time()),
            }
        )
        workbook.close()
        _set_xlsx_language(tmp)


def _rewrite_zip_members(path: Path, edits: dict) -> None:
    """Rewrite members of a zip file (XLSX and ODS are zips) through `edits[name](text) ->
    text`, every member dated 1980-01-01 (the zip format's first day), not the time written."""
    rewritten = path.with_name(path.name + ".zip")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(rewritten, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename in edits:
                data = edits[item.filename](data.decode("utf-8")).encode("utf-8")
            compress = zipfile.ZIP_STORED if item.filename == "mimetype" else zipfile.ZIP_DEFLATED
            fixed = zipfile.ZipInfo(item.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.external_attr = item.external_attr
            target.writestr(fixed, data, compress_type=compress)
    rewritten.replace(path)


def _set_xlsx_language(path: Path) -> None:
    def edit(core: str) -> str:
        if "<dc:language>" in core:
            return core
        return core.replace(
            "</cp:coreProperties>", f"<dc:language>{LANGUAGE}</dc:language></cp:coreProperties>"
        )

    _rewrite_zip_members(path, {"docProps/core.xml": edit})


def _normalise_ods(path: Path) -> None:
    """The ODS with its language set and its page styles in a fixed order."""

    def edit(meta: str) -> str:
        meta = re.sub(r"<dc:language>[^<]*</dc:language>", "", meta)
        return meta.replace(
            "</office:meta>", f"<dc:language>{LANGUAGE}</dc:language></office:meta>"
        )

    _rewrite_zip_members(path, {"meta.xml": edit, "styles.xml": _sorted_master_pages})


MASTER_PAGE = re.compile(r"<style:master-page .*?</style:master-page>", re.S)


def _sorted_master_pages(styles: str) -> str:
    """LibreOffice writes the page styles of the sheets (`style:master-page`, referred to by
    name) in an order that changes from one conversion to the next: sort them by name, so the
    same workbook converts to the same bytes."""
    pages = MASTER_PAGE.findall(styles)
    if not pages:
        return styles
    start, end = styles.index(pages[0]), styles.index(pages[-1]) + len(pages[-1])
    if "".join(pages) != styles[start:end]:  # not one run of page styles: leave it as it is
        return styles
    return styles[:start] + "".join(sorted(pages)) + styles[end:]


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
        _normalise_ods(produced)
        with building(ods) as tmp:
            shutil.move(str(produced), tmp)
    return ods, f"ODS written: {ods.name}"

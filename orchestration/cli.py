"""The `probation-pipeline` command: demo data, pipeline runs, quality flags, releases.

Every command prints one clear line when it fails (no traceback). With no arguments it prints
its help. The words are the same in every help text: an *edition* is YYYY-MM (a correction of a
published one YYYY-MM-vN), an *extract-month* one extract's delivery for one month, the
*landing zone* the folder of deliveries (`--landing`: PROBATION_LANDING_DIR, else `landing/` in
the data folder), the *data folder* the one the pipeline writes (`--data-dir`:
PROBATION_DATA_DIR, else `<repo>/data`), the *published area* where releases go
(PROBATION_PUBLISHED_DIR, else `<data folder>/published`). `run` records its Dagster runs in
the instance `make ui` shows (DAGSTER_HOME, else `<data folder>/dagster_home`) unless
`--no-history` is given, shows progress as it goes and ends with a summary per stage.

Exit codes (each command's `--help` lists its own):

- 0 done: a run that built its outputs (an edition held back by the quality gate, or nothing
  new to do, included), a release made (or a dry run that would be), every published file
  intact, a rebuild identical to the published edition, a listing printed (empty included).
- 1 failed: the command tried and its work broke. `run`: a file broke its contract, a
  configuration file broke its rules, the warehouse is locked, a model failed. `flags`: the
  reviews file breaks its rules. `release`: the copy in the published area differs from the
  staged files (`ReleaseFailed`). `rebuild`: git could not make a worktree of the commit, or
  the rebuild's own pipeline run failed or staged no edition (`RebuildFailed`). Any command:
  anything unforeseen.
- 2 usage error, before any work: an argument argparse rejects, `--start` after `--end`, a
  `--scale` or `--inject` that cannot be used, `run --edition` for a month with no data, no
  delivery in the months asked, a landing zone that does not exist, a folder the command must
  write that cannot be written (the data folder for `run`, the published area for `release`,
  `--out` for `rebuild` and `demo-data`; also `rebuild --out` not empty). This is the machine
  or the command line, not the data: fix it and run again.
- 3 refused: the command checked the data and the published record and says no. `release`:
  every `ReleaseRefused` (not staged, not built or held by the gate, not validated, changed
  since validation, already published without `--reason`, built against an earlier release
  than the latest, no pre-announced date, no ODS without `--xlsx-only`, pre-release access
  time missing, malformed or out of bounds, the version folder already there). `rebuild`:
  every `RebuildRefused` (edition not in the release log, its published folder missing, no
  `inputs/` or no landing files listed, a landing file missing or changed since it was loaded,
  the commit unknown to the repository) and a rebuilt edition that differs from the published
  one. `verify`: a published file changed, missing or added, a published folder not in the
  log, a log entry edited, removed or unreadable, the head missing, `--edition` naming no
  release.
- 130 interrupted (Ctrl-C).

The business-day calendar seed is a developer's task, not a command here: `make calendar-seed`
(`python -m orchestration.business_calendar`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import textwrap
import time
from pathlib import Path

from orchestration.settings import PROJECT_ROOT

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
FLAG_STATUSES = ("WARN", "SUPPRESS", "OK")

DONE, FAILED, USAGE, REFUSED, INTERRUPTED = 0, 1, 2, 3, 130


class UsageError(Exception):
    """A command-line argument that cannot be used."""


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line (exit 2) instead of the usage text."""

    def error(self, message: str):
        raise UsageError(f"{message} (see {self.prog} --help)")


def _month(value: str) -> str:
    if not MONTH.match(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a month YYYY-MM")
    return value


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    def of(package: str) -> str:
        try:
            return version(package)
        except PackageNotFoundError:
            return "not installed"

    return (
        f"probation-pipeline {of('probation-pipeline')} (Dagster {of('dagster')}, "
        f"dbt-core {of('dbt-core')}, dbt-duckdb {of('dbt-duckdb')}, DuckDB {of('duckdb')})"
    )


class _Help(argparse.HelpFormatter):
    """Option help with its default, when it has one worth stating; the description and the
    epilog wrapped line by line (so the exit codes keep a line each)."""

    def __init__(self, prog: str, **kwargs: object) -> None:
        super().__init__(prog, **kwargs)  # type: ignore[arg-type]
        # argparse measures a command as if not indented under COMMAND: leave it room
        self._action_max_length = 16

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default not in (None, False, [], argparse.SUPPRESS) and "default" not in text:
            text += " (default: %(default)s)"
        return text

    def _split_lines(self, text: str, width: int) -> list[str]:
        """Never at a hyphen: --data-dir and pre-release stay whole."""
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        lines = []
        for line in text.splitlines():
            match = _HANGING.match(line)
            hanging = " " * (len(match.group(0)) if match else 0)
            wrapped = textwrap.wrap(
                line,
                width,
                initial_indent=indent,
                subsequent_indent=indent + hanging,
                break_on_hyphens=False,
            )
            lines += wrapped or [""]
        return "\n".join(lines)


_HANGING = re.compile(r"^\s*(\d+\s+)?")  # an exit code's lines wrap under its text


def _escape(text: str) -> str:
    """A path in a help text, where argparse reads % as a format."""
    return text.replace("%", "%%")


DATA_DEFAULT = _escape(f"$PROBATION_DATA_DIR, else {PROJECT_ROOT / 'data'}")


def _landing_default(unless: str = "neither --data-dir nor $PROBATION_DATA_DIR is set") -> str:
    return _escape(
        "$PROBATION_LANDING_DIR, else landing/ in the data folder: "
        f"{PROJECT_ROOT / 'data' / 'landing'} when {unless}"
    )


def _exits(*lines: str) -> str:
    """A command's epilog: its exit codes, one a line."""
    codes = [line.partition("  ") for line in (*lines, "130  interrupted (Ctrl-C)")]
    return "\n".join(["exit codes:", *(f"  {code:>3}  {text}" for code, _, text in codes)])


def _data_dir(parser: argparse.ArgumentParser, role: str = "") -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help=f"the data folder{role} (default: {DATA_DEFAULT})",
    )


def _landing(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--landing",
        type=Path,
        metavar="DIR",
        help=f"the landing zone to read (default: {_landing_default()})",
    )


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="probation-pipeline",
        formatter_class=_Help,
        description="Probation performance statistics for England and Wales: load the "
        "deliveries of the landing zone, build the warehouse and an edition in the data folder, "
        "review its quality flags, release it, and check or rebuild what was released. Months "
        "are YYYY-MM, ranges include both ends; an edition is YYYY-MM (a correction of a "
        "published edition YYYY-MM-vN); an extract-month is one extract's delivery for one "
        "month. Each command's --help says more.",
        epilog=_exits(
            "0  done",
            "1  failed (a run, a check or a copy that broke)",
            "2  usage error (an argument, or a folder that cannot be read or written)",
            "3  refused (release, rebuild, verify: the data or the published record says no)",
        ),
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser, metavar="COMMAND", title="commands"
    )

    def command(name: str, summary: str, description: str, *exits: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=summary,
            description=description,
            epilog=_exits(*exits),
            formatter_class=_Help,
        )

    demo = command(
        "demo-data",
        "write a synthetic landing zone",
        "Write a synthetic landing zone: one delivery per extract-month (CSV or Parquet, "
        "<landing zone>/<extract>/<extract>_YYYY-MM[_rN].csv) with .ctl control files, "
        "re-deliveries, late records and, on purpose, data defects for the quality checks to "
        "find. The files are written over any already there.",
        "0  written",
        "1  failed (a file that could not be written)",
        "2  usage error (an argument, or --out cannot be written)",
    )
    demo.add_argument("--scale", type=float, default=0.02, help="1.0 = national volumes")
    demo.add_argument(
        "--start", type=_month, metavar="YYYY-MM", default="2019-04", help="first month delivered"
    )
    demo.add_argument(
        "--end", type=_month, metavar="YYYY-MM", default="2025-03", help="last month delivered"
    )
    demo.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="the landing zone to write (default: "
        f"{_landing_default('$PROBATION_DATA_DIR is not set')})",
    )
    demo.add_argument("--seed", type=int, default=20190401, help="random seed")
    demo.add_argument(
        "--format", choices=("csv", "parquet"), default="csv", help="file format of the extracts"
    )
    demo.add_argument(
        "--inject",
        action="append",
        default=[],
        metavar="KIND:EXTRACT:REGION:MONTH[:SHARE]",
        help="inject a named defect into one extract-month (repeatable), e.g. "
        "drop_rows:contacts:N07:2022-03:0.4; kinds: drop_rows, duplicate_rows, shift_dates, "
        "drop_region, null_spike, vanished_record (events/requirements), truncated_transfer and "
        "missing_month (region *) (default: none)",
    )
    demo.add_argument(
        "--no-unification-defects",
        action="store_true",
        help="leave out the built-in April-June 2021 data defects",
    )
    demo.add_argument(
        "--no-control-files",
        action="store_true",
        help="write no .ctl control files (the files' modification time is the extraction time)",
    )

    run = command(
        "run",
        "load the landing zone and build every output",
        "Load every extract-month delivered and not yet loaded (CSV or Parquet, "
        "<landing zone>/<extract>/<extract>_YYYY-MM[_rN].csv), then refresh the warehouse, the "
        "quality flags, the edition and the analyst snapshot in the data folder (skipped when "
        "nothing they read has changed). The Dagster runs are recorded in DAGSTER_HOME, else "
        "<data folder>/dagster_home, which `make ui` shows. Ends with a summary per stage.",
        "0  done, an edition held back by the quality gate or nothing new to load included",
        "1  failed: a file breaks its contract, a configuration file breaks its rules, the "
        "warehouse is locked or a model fails (one line each; the log is under "
        "<data folder>/logs)",
        "2  usage error, before any work: an argument, --edition for a month with no data, no "
        "delivery in the months asked, a landing zone not found, a data folder that cannot be "
        "written",
    )
    run.add_argument(
        "--start",
        type=_month,
        metavar="YYYY-MM",
        help="first month to load (default: the first delivered)",
    )
    run.add_argument(
        "--end",
        type=_month,
        metavar="YYYY-MM",
        help="last month to load (default: the last delivered)",
    )
    _landing(run)
    _data_dir(run, " to write")
    run.add_argument(
        "--edition",
        type=_month,
        metavar="YYYY-MM",
        help="the edition to build (default: the newest month with data)",
    )
    run.add_argument(
        "--force",
        action="store_true",
        help="reload the extract-months already loaded and rebuild every output",
    )
    run.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild every warehouse model from every delivery (by default a refresh updates "
        "only what the deliveries since the last one change)",
    )
    run.add_argument(
        "--no-history",
        action="store_true",
        help="record nothing in the Dagster instance (a throwaway run the UI will not show)",
    )
    run.add_argument("--verbose", action="store_true", help="show Dagster's run log")

    flags = command(
        "flags",
        "list the quality flags and their review state",
        "List the quality flags the last run raised (from the analyst snapshot in the "
        "data folder), with their review state as the reviews file says now: a decision "
        "recorded since the last run is marked * and applies at the next run. With no run yet "
        "there are none.",
        "0  listed (none included)",
        "1  failed: the reviews file breaks its rules",
        "2  usage error",
    )
    _data_dir(flags, " to read")
    flags.add_argument(
        "--status",
        type=str.upper,
        choices=FLAG_STATUSES,
        help="only the flags with this status (WARN: not yet reviewed) (default: all)",
    )
    flags.add_argument(
        "--unreviewed", action="store_true", help="only the flags awaiting a decision"
    )
    flags.add_argument(
        "--json",
        action="store_true",
        help="print a JSON array (one object per flag, months and dates in ISO 8601) instead of "
        "the table, and nothing else on stdout",
    )

    release = command(
        "release",
        "publish a staged edition (after the quality gate and the validation passed)",
        "Copy a staged edition of the data folder to the published area ($PROBATION_PUBLISHED_DIR, "
        "else <data folder>/published), read-only, once, and record it in the release log. "
        "A correction of a published edition is released with --reason as YYYY-MM-vN.",
        "0  released (with --dry-run: would be released)",
        "1  failed: the copy in the published area differs from the staged files",
        "2  usage error (an argument, or a published area that cannot be written)",
        "3  refused: the edition is not staged, held by the quality gate, not validated or "
        "changed since; already published and no --reason; built against an earlier release "
        "than the latest; not pre-announced; no ODS workbook and no --xlsx-only; "
        "--access-granted missing or out of bounds",
    )
    release.add_argument(
        "--edition", type=_month, required=True, metavar="YYYY-MM", help="the edition to release"
    )
    release.add_argument(
        "--approver",
        required=True,
        metavar="NAME",
        help="the person who approves the release (logged)",
    )
    release.add_argument(
        "--reason",
        metavar="TEXT",
        help="why: required to release a correction of a published edition (default: none, a "
        "first release)",
    )
    release.add_argument(
        "--access-granted",
        metavar="'YYYY-MM-DD HH:MM'",
        help="when pre-release access was granted (UK time); required when publication.toml "
        "lists anyone with pre-release access (default: none)",
    )
    release.add_argument(
        "--xlsx-only",
        metavar="REASON",
        help="release an edition that has no ODS workbook, saying why (logged) (default: the "
        "ODS is required)",
    )
    release.add_argument(
        "--dry-run", action="store_true", help="say what the release would do; change nothing"
    )
    _data_dir(release, " holding the staged edition")

    verify = command(
        "verify",
        "check every published file against the release log",
        "Check every file of the published area against the SHA-256 the release log recorded "
        "for it, and the log's own hash chain. Names every file changed, missing or added, and "
        "any log entry edited or removed, one line each.",
        "0  every published file matches the release log, and its chain is intact",
        "1  failed (a file that cannot be read)",
        "2  usage error",
        "3  refused: a published file changed, missing or added, a published folder not in the "
        "release log, a log entry edited or removed, or --edition names no release",
    )
    verify.add_argument(
        "--edition",
        metavar="YYYY-MM[-vN]",
        help="only this published edition: YYYY-MM (every version of it) or YYYY-MM-vN (that "
        "correction alone) (default: every published edition)",
    )
    _data_dir(verify, " holding the published area")

    rebuild = command(
        "rebuild",
        "rebuild a published edition from its inputs and compare it with what was published",
        "Rebuild a published edition in --out from the landing files its loads.csv lists "
        "(checked by SHA-256), the inputs it was released with (its inputs/ folder) and the "
        "code of the git commit the release log recorded (a git worktree when the checkout "
        "differs), then compare every file with the published one: CSV, Parquet, the data "
        "dictionary, the bulletin and the validation result byte for byte, the XLSX and ODS "
        "cell by cell.",
        "0  identical to the published edition",
        "1  failed: git could not make a worktree, or the rebuild's pipeline run failed or "
        "staged no edition (its log is in --out)",
        "2  usage error (an argument, or --out not an empty folder or not writable)",
        "3  refused or different: the edition is not in the release log, its published folder "
        "or inputs/ are missing, a landing file is missing or changed since it was loaded, the "
        "commit is not in the repository; or the rebuilt edition differs from the published one",
    )
    rebuild.add_argument(
        "--edition",
        required=True,
        metavar="YYYY-MM[-vN]",
        help="the published edition: YYYY-MM (its first release) or YYYY-MM-vN (a correction)",
    )
    rebuild.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="an empty folder to build in"
    )
    _landing(rebuild)
    _data_dir(rebuild, " holding the published area")

    editions = command(
        "editions",
        "list staged and published editions",
        "List every edition staged in the data folder, with whether it can be released, and "
        "every edition in the release log, with when and by whom it was released.",
        "0  listed (none included)",
        "1  failed (anything unforeseen, in one line)",
        "2  usage error",
    )
    _data_dir(editions, " to read")
    editions.add_argument(
        "--json",
        action="store_true",
        help="print a JSON array (one object per edition: edition, where, state, released_at, "
        "approver, reason) instead of the table, and nothing else on stdout",
    )
    return parser


def _writable(path: Path, what: str) -> None:
    """A UsageError (exit 2), one line naming the folder, when `what` at `path` cannot be
    written: it, or the nearest folder above it that exists (where it would be created), must
    be a folder this user may write. Checked before any work; nothing is created."""
    problem = None
    probe = path
    while not os.path.lexists(probe) and probe.parent != probe:
        probe = probe.parent
    if not probe.exists():
        problem = f"{probe} is a broken link"
    elif not probe.is_dir():
        problem = "it is a file, not a folder" if probe == path else f"{probe} is a file"
    elif not os.access(probe, os.W_OK | os.X_OK):
        problem = "permission denied" if probe == path else f"{probe}: permission denied"
    if problem:
        raise UsageError(f"cannot write the {what} {path}: {problem}")


def _this_command() -> str:
    """How this command was called (e.g. .venv/bin/probation-pipeline), for hints."""
    called = Path(sys.argv[0])
    if called.name != "probation-pipeline":
        return "probation-pipeline"
    try:
        return str(called.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(called)


def _release(args: argparse.Namespace) -> int:
    from orchestration.release.publish import ReleaseFailed, ReleaseRefused, release_edition
    from orchestration.settings import Settings

    settings = Settings.from_env(data_dir=args.data_dir)
    if not args.dry_run:
        _writable(settings.published_dir, "published area")
    try:
        entry = release_edition(
            settings, args.edition, args.approver, args.reason,
            access_granted=args.access_granted, xlsx_only=args.xlsx_only, dry_run=args.dry_run,
        )  # fmt: skip
    except ReleaseRefused as refused:
        print(f"error: refused: {refused}", file=sys.stderr)
        return REFUSED
    except ReleaseFailed as failed:
        print(f"error: {failed}", file=sys.stderr)
        return FAILED
    access = entry["pre_release_access"]
    granted = (
        f"pre-release access granted {access['granted_at']} to {access['people']} people"
        if access["granted"]
        else "no pre-release access"
    )
    code = entry["git_commit"][:12] + ("" if entry["git_clean"] else " (with uncommitted changes)")
    if args.dry_run:
        print("Dry run: nothing was changed. The release would:")
        print(f"  copy {len(entry['files'])} files from {settings.staging_dir / args.edition}")
        print(f"  to {entry['folder']} (read-only), as {entry['version']} ({entry['reason']})")
        print(f"  record in {settings.published_dir / 'release_log.jsonl'}: approved by "
              f"{entry['approver']}, {granted}, pre-announced for {entry['announced_for']}, "
              f"workbooks {entry['workbooks']}, code {code}")  # fmt: skip
        return DONE
    print(
        f"Released {entry['version']} to {entry['folder']} ({len(entry['files'])} files, "
        f"read-only), approved by {entry['approver']}; {granted}; pre-announced for "
        f"{entry['announced_for']}; logged in {settings.published_dir / 'release_log.jsonl'}"
    )
    if not entry["git_clean"]:
        print(
            f"warning: released from a checkout with uncommitted changes: a rebuild from "
            f"commit {entry['git_commit'][:12]} may not reproduce it",
            file=sys.stderr,
        )
    return DONE


def _verify(args: argparse.Namespace) -> int:
    from orchestration.release.publish import verify_published
    from orchestration.settings import Settings

    settings = Settings.from_env(data_dir=args.data_dir)
    problems, checked = verify_published(settings, args.edition)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        return REFUSED
    print(f"{checked} published files match the release log; its hash chain is intact "
          f"({settings.published_dir}).")  # fmt: skip
    return DONE


def _rebuild(args: argparse.Namespace) -> int:
    from orchestration.release.edition_compare import format_verdicts
    from orchestration.release.rebuild import RebuildFailed, RebuildRefused, rebuild_edition
    from orchestration.settings import Settings

    settings = Settings.from_env(args.landing, args.data_dir)
    out = args.out.resolve()
    if out.exists() and out.is_dir() and any(out.iterdir()):
        raise UsageError(f"--out {out}: not an empty folder")
    _writable(out, "rebuild folder (--out)")
    try:
        report = rebuild_edition(settings, args.edition, out)
    except RebuildRefused as refused:
        print(f"error: refused: {refused}", file=sys.stderr)
        return REFUSED
    except RebuildFailed as failed:
        print(f"error: {failed}", file=sys.stderr)
        return FAILED
    for note in report.notes:
        print(f"note: {note}")
    for line in format_verdicts(report.verdicts):
        print(line)
    verdict = "identical to" if report.identical else "DIFFERENT from"
    print(f"Rebuilt {report.version} in {report.seconds:.1f}s ({report.folder}): {verdict} "
          "the published edition.")  # fmt: skip
    return DONE if report.identical else REFUSED


def _editions(args: argparse.Namespace) -> int:
    from orchestration.release.publish import edition_states
    from orchestration.settings import Settings

    settings = Settings.from_env(data_dir=args.data_dir)
    rows = edition_states(settings)
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return DONE
    if not rows:
        print(f"No staged or published edition in {settings.data_dir}.")
        return DONE
    width = max(len(r["edition"]) for r in rows)
    print(f"{'EDITION'.ljust(width)}  {'WHERE'.ljust(9)}  STATE")
    for r in rows:
        print(f"{r['edition'].ljust(width)}  {r['where'].ljust(9)}  {r['state']}")
    return DONE


def _demo_data(args: argparse.Namespace) -> int:
    from orchestration.demo import generate_landing, parse_defect
    from orchestration.settings import Settings

    if args.start > args.end:
        raise UsageError(f"--start {args.start} is after --end {args.end}")
    if args.scale <= 0:
        raise UsageError("--scale must be greater than 0")
    try:
        defects = [parse_defect(spec) for spec in args.inject]
    except ValueError as error:
        raise UsageError(str(error)) from None
    if args.no_control_files:
        for spec in defects:
            if spec.kind == "truncated_transfer":
                raise UsageError(
                    f"--inject {spec.label} needs control files: drop --no-control-files"
                )
    out = (args.out or Settings.from_env().landing_dir).resolve()
    _writable(out, "landing zone")
    began = time.perf_counter()
    summary = generate_landing(
        out,
        start=args.start,
        end=args.end,
        scale=args.scale,
        seed=args.seed,
        unification_defects=not args.no_unification_defects,
        inject=defects,
        fmt=args.format,
        control_files=not args.no_control_files,
    )
    rows = summary.get("rows", {})
    print(
        f"Wrote demo landing data for {args.start} to {args.end} at scale {args.scale} "
        f"to {out} in {time.perf_counter() - began:.1f}s ({sum(rows.values()):,} rows)."
    )
    redelivered = [d for d in summary.get("deliveries", []) if d["revision"] > 1]
    late = summary.get("late", {})
    print(
        f"  as of {summary.get('as_of')}: {len(redelivered)} re-deliveries; filled in later: "
        + ", ".join(f"{n:,} {e}" for e, n in late.items() if e not in ("events", "requirements"))
        + f"; backdated terminations: {late.get('events', 0):,} events, "
        f"{late.get('requirements', 0):,} requirements"
        + ("" if summary.get("control_files", True) else "; no control files")
    )
    defects = summary.get("defects", [])
    if defects:
        print(f"  {len(defects)} data defects injected on purpose, for the quality checks to find:")
    for defect in defects:
        print(f"    - {defect}")
    return DONE


def _run(args: argparse.Namespace) -> int:
    from orchestration.running.runner import run_pipeline
    from orchestration.settings import Settings

    settings = Settings.from_env(args.landing, args.data_dir)
    if not settings.landing_dir.is_dir():
        raise UsageError(f"{settings.landing_dir}: landing zone not found")
    _writable(settings.data_dir, "data folder")
    if not args.no_history:
        from orchestration.running.instance import dagster_home

        _writable(dagster_home(settings), "Dagster home (DAGSTER_HOME)")
    if args.start and args.end and args.start > args.end:
        raise UsageError(f"--start {args.start} is after --end {args.end}")
    if args.edition:
        from orchestration.warehouse.configuration import data_months

        months = data_months(settings)
        if args.edition not in months:
            held = f"data runs from {months[0]} to {months[-1]}" if months else "no data yet"
            raise UsageError(f"--edition {args.edition}: no data for that month ({held})")
    from orchestration.running.runner import months_to_run

    if not months_to_run(settings, args.start, args.end):
        span = f" from {args.start or 'the first'} to {args.end or 'the last'} month"
        raise UsageError(f"{settings.landing_dir}: no deliveries{span}")
    began = time.perf_counter()
    out = sys.stdout
    opened = []  # the instance, opened only when there is work to do

    def open_instance():
        opened.append(_instance(settings, history=not args.no_history))
        return opened[-1]

    def progress(message: str) -> None:
        print(f"[{time.perf_counter() - began:6.1f}s] {message}", file=out, flush=True)

    try:
        summary = run_pipeline(
            settings,
            start=args.start,
            end=args.end,
            edition=args.edition,
            force=args.force,
            full_refresh=args.full_refresh,
            instance=open_instance,
            log_level="DEBUG" if args.verbose else "CRITICAL",
            quiet=not args.verbose,
            progress=progress,
        )
    finally:
        for instance in opened:
            instance.dispose()
    _print_summary(settings, summary, time.perf_counter() - began, history=not args.no_history)
    if summary.failures:
        log = f"; log: {summary.log_file}" if summary.log_file else ""
        if len(summary.failures) == 1:  # one problem, one line
            print(f"error: {summary.failures[0]} (earlier outputs unchanged{log})", file=sys.stderr)
            return FAILED
        for failure in summary.failures:
            print(f"error: {failure}", file=sys.stderr)
        print(
            f"error: {len(summary.failures)} failure(s); outputs from earlier runs are "
            f"unchanged{log}",
            file=sys.stderr,
        )
        return FAILED
    return DONE


def _print_summary(settings, summary, elapsed: float, history: bool) -> None:
    """The closing summary: what was loaded, each stage's time, the flags in the edition's
    window, whether the edition was staged or held, and where outputs, history and log are."""
    from orchestration.publication.tables import edition_window
    from orchestration.running.instance import dagster_home
    from orchestration.running.runner import gap_lines

    print(
        f"Done in {elapsed:.1f}s: loaded {len(summary.loaded)} extract-months "
        f"({summary.up_to_date} already up to date) for {len(summary.months)} months; "
        f"{summary.set_aside:,} rows set aside."
    )
    for stage, seconds in summary.stages.items():
        print(f"  {stage:<14}{seconds:8.1f}s")
    if summary.gaps:
        print("Not delivered (yet): cells that need these extract-months stay provisional")
        for line in gap_lines(summary.gaps):
            print(f"  {line}")
    if summary.failures:
        return
    if summary.current_since:
        print(
            f"Nothing new since the last refresh ({summary.current_since}): the warehouse, "
            "the edition and the snapshot are current (--force rebuilds them)."
        )
    if summary.edition:
        months = edition_window(summary.edition).months
        flags = summary.flags or {}
        print(
            f"Quality flags in the edition's window ({months[0]} to {months[-1]}): "
            f"{flags.get('raised', 0)} raised, {flags.get('unreviewed', 0)} unreviewed"
            + (f" (see: {_this_command()} flags --unreviewed)" if flags.get("unreviewed") else "")
        )
    if summary.held:
        print(f"Edition {summary.edition} held back (not staged, or staged but not valid):")
        for reason in summary.held:
            print(f"  - {reason}")
    elif summary.edition:
        staged = settings.staging_dir / str(summary.edition)
        print(f"Edition {summary.edition} staged and validated: {staged}")
        print(f"  bulletin: {staged / 'bulletin.html'}")
        print(
            f"  to publish it: {_this_command()} release --edition {summary.edition} "
            '--approver "Your Name" --access-granted "YYYY-MM-DD HH:MM" (when pre-release '
            "access was granted; --dry-run first shows what it will do)"
        )
        for notice in summary.notices:
            print(f"  {notice}")
    print(f"Warehouse:        {settings.warehouse_path}")
    print(
        f"Analyst snapshot: {settings.analytics_path} (Parquet in {settings.analytics_parquet_dir})"
    )
    if history:
        print(f"Run history:      {dagster_home(settings)} (make ui shows it)")
    if summary.log_file:
        print(f"Log:              {summary.log_file}")


def _instance(settings, history: bool):
    """The instance `make ui` shows (orchestration/running/instance.py), or with history off a
    throwaway one."""
    import dagster as dg

    from orchestration.running.instance import recorded_instance

    return recorded_instance(settings) if history else dg.DagsterInstance.ephemeral()


def _flags(args: argparse.Namespace) -> int:
    """Print every flag the last run raised (data_quality_flags in the analyst snapshot, never
    the warehouse), with its review state as the reviews file says now. A decision recorded since
    the last run is marked `*`: period_quality takes it at the next run. Before any run there
    are none (`[]` with --json). The JSON has the table's fields, the review also in parts:
    flag_id, rule, subject, geography, month (YYYY-MM), status, review, decision, reviewer,
    reviewed_on (YYYY-MM-DD), pending (decided since the last run), detail."""
    from orchestration.settings import Settings
    from orchestration.warehouse.quality import (
        apply_reviews,
        read_flags,
        read_reviews,
        review_label,
    )
    from schemas.quality import FLAG_COLUMNS, ReviewFileError

    settings = Settings.from_env(data_dir=args.data_dir)
    if not settings.analytics_path.exists():
        none_yet = f"quality flags yet: {settings.analytics_path} does not exist (run the pipeline"
        if args.json:
            print("[]")
            print(f"note: no {none_yet} first)", file=sys.stderr)
        else:
            print(f"No {none_yet} first).")
        return DONE
    try:
        last_run = read_flags(settings)
        reviews = read_reviews(settings.reviews_path)
    except (FileNotFoundError, ReviewFileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return FAILED
    flags = apply_reviews(last_run[list(FLAG_COLUMNS)], reviews)
    applied = dict(zip(last_run["flag_id"], last_run["decision"].fillna(""), strict=True))
    flags["pending"] = [
        applied.get(f, "") != (d or "")
        for f, d in zip(flags["flag_id"], flags["decision"], strict=True)
    ]
    if args.unreviewed:
        flags = flags[flags["status"] == "WARN"]
    if args.status:
        flags = flags[flags["status"] == args.status]
    flags = flags.sort_values(["month", "subject", "geography_code", "rule"])
    if args.json:
        records = [
            {
                "flag_id": r.flag_id,
                "rule": r.rule,
                "subject": r.subject,
                "geography": r.geography_code,
                "month": f"{r.month:%Y-%m}",
                "status": r.status,
                "review": review_label(r.decision, r.reviewer, r.reviewed_on),
                "decision": r.decision,
                "reviewer": r.reviewer,
                "reviewed_on": None if r.decision is None else f"{r.reviewed_on:%Y-%m-%d}",
                "pending": bool(r.pending),
                "detail": r.detail,
            }
            for r in flags.itertuples()
        ]
        print(json.dumps(records, indent=2, ensure_ascii=False))
        return DONE
    columns = ("flag_id", "rule", "subject", "geography", "month", "status", "review", "detail")
    rows = [
        (
            r.flag_id,
            r.rule,
            r.subject,
            r.geography_code,
            f"{r.month:%Y-%m}",
            r.status,
            review_label(r.decision, r.reviewer, r.reviewed_on) + (" *" if r.pending else ""),
            r.detail,
        )
        for r in flags.itertuples()
    ]
    widths = [max([len(c), *(len(row[i]) for row in rows)]) for i, c in enumerate(columns[:-1])]
    print("  ".join(c.upper().ljust(w) for c, w in zip(columns, [*widths, 0], strict=True)))
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row, [*widths, 0], strict=True)).rstrip())
    counts = flags["status"].value_counts()
    print(
        f"{len(flags)} flag(s): {counts.get('WARN', 0)} unreviewed, "
        f"{counts.get('SUPPRESS', 0)} suppressed, {counts.get('OK', 0)} published. "
        f"Reviews file: {settings.reviews_path}"
        + (
            " (* = decided since the last run; applies at the next run)"
            if flags["pending"].any()
            else ""
        )
    )
    return DONE


COMMANDS = {
    "demo-data": _demo_data,
    "run": _run,
    "flags": _flags,
    "release": _release,
    "verify": _verify,
    "rebuild": _rebuild,
    "editions": _editions,
}


def main(argv: list[str] | None = None) -> int:
    import warnings

    # Dagster's notices about preview and beta APIs are for developers, not for operators
    warnings.filterwarnings("ignore", module="dagster")
    warnings.filterwarnings("ignore", message=".*(preview|beta).*")
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        parser = _parser()
        if not argv:  # no arguments: what the command can do
            parser.print_help()
            return DONE
        args = parser.parse_args(argv)
        return COMMANDS[args.command](args)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return INTERRUPTED
    except Exception as error:  # one line, not a traceback, for anything unforeseen
        from orchestration.running.run_report import plain

        print(f"error: {plain(str(error)) or 'unexpected failure'}", file=sys.stderr)
        return FAILED


if __name__ == "__main__":
    sys.exit(main())

"""The `probation-pipeline` command: demo data, pipeline runs, quality flags, business-day seed.

Every command prints one clear line when it fails (no traceback) and exits non-zero:
2 for a usage error (no deliveries in the months asked among them), 1 for a failed run.
`--landing` and `--data-dir` default to the environment variables PROBATION_LANDING_DIR and
PROBATION_DATA_DIR. `run` records its Dagster runs in the instance `make ui` shows (DAGSTER_HOME,
else `<data>/dagster_home`) unless `--no-history` is given, shows progress as it goes and ends
with a summary per stage.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
FLAG_STATUSES = ("WARN", "SUPPRESS", "OK")


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
    """Option help with its default, when it has one worth stating."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default not in (None, False, [], argparse.SUPPRESS) and "default" not in text:
            text += " (default: %(default)s)"
        return text


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="probation-pipeline",
        description="Probation performance statistics for England and Wales. Months are "
        "YYYY-MM, ranges inclusive. Exit codes: 0 done (an edition held back by the quality "
        "gate included), 1 a run failed, 2 a usage error.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    demo = sub.add_parser("demo-data", help="write a synthetic landing zone", formatter_class=_Help)
    demo.add_argument("--scale", type=float, default=0.02, help="1.0 = national volumes")
    demo.add_argument(
        "--start", type=_month, metavar="YYYY-MM", default="2019-04", help="first month, YYYY-MM"
    )
    demo.add_argument(
        "--end", type=_month, metavar="YYYY-MM", default="2025-03", help="last month, YYYY-MM"
    )
    demo.add_argument(
        "--out", type=Path, metavar="DIR", help="landing folder (default PROBATION_LANDING_DIR)"
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
        help="inject a named defect (repeatable), e.g. drop_rows:contacts:N07:2022-03:0.4; "
        "kinds: drop_rows, duplicate_rows, shift_dates, drop_region, null_spike, "
        "vanished_record (events/requirements), truncated_transfer and missing_month (region *)",
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

    run = sub.add_parser(
        "run",
        help="load the landing zone and build every output",
        description="Load every extract-month delivered and not yet loaded (CSV or Parquet, "
        "<landing>/<extract>/<extract>_YYYY-MM[_rN].csv), then rebuild the warehouse, the "
        "quality flags, the edition and the analyst snapshot (skipped when nothing they read "
        "has changed). The Dagster runs are recorded in DAGSTER_HOME, else "
        "<data>/dagster_home, which `make ui` shows.",
    )
    run.add_argument(
        "--start",
        type=_month,
        metavar="YYYY-MM",
        help="first month to load, YYYY-MM (default: first delivered)",
    )
    run.add_argument(
        "--end",
        type=_month,
        metavar="YYYY-MM",
        help="last month to load, YYYY-MM (default: last delivered)",
    )
    run.add_argument(
        "--landing", type=Path, metavar="DIR", help="landing folder (PROBATION_LANDING_DIR)"
    )
    run.add_argument(
        "--data-dir", type=Path, metavar="DIR", help="data folder (PROBATION_DATA_DIR)"
    )
    run.add_argument(
        "--edition",
        type=_month,
        metavar="YYYY-MM",
        help="edition to build, YYYY-MM (default: newest month)",
    )
    run.add_argument(
        "--force", action="store_true", help="reload months already loaded and rebuild all"
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

    flags = sub.add_parser("flags", help="list the data-quality flags and their review state")
    flags.add_argument(
        "--data-dir", type=Path, metavar="DIR", help="data folder (PROBATION_DATA_DIR)"
    )
    flags.add_argument(
        "--status",
        type=str.upper,
        choices=FLAG_STATUSES,
        help="only flags with this status (WARN: not yet reviewed)",
    )
    flags.add_argument("--unreviewed", action="store_true", help="only flags awaiting a decision")

    release = sub.add_parser(
        "release", help="publish a staged edition (after the gate and the validation passed)"
    )
    release.add_argument("--edition", type=_month, required=True, help="the edition, YYYY-MM")
    release.add_argument("--approver", required=True, help="who approves the release")
    release.add_argument(
        "--reason", help="why: required to release a correction of a published edition"
    )
    release.add_argument(
        "--access-granted",
        metavar="'YYYY-MM-DD HH:MM'",
        help="when pre-release access was granted (UK time); required when publication.toml "
        "lists anyone with pre-release access",
    )
    release.add_argument(
        "--xlsx-only",
        metavar="REASON",
        help="release an edition that has no ODS workbook, saying why (logged)",
    )
    release.add_argument(
        "--dry-run", action="store_true", help="say what the release would do; change nothing"
    )
    release.add_argument(
        "--data-dir", type=Path, metavar="DIR", help="data folder (PROBATION_DATA_DIR)"
    )

    verify = sub.add_parser(
        "verify",
        help="check every published file against the release log",
        description="Check every published file against the SHA-256 the release log recorded "
        "for it, and the log's own hash chain. Exit 1 naming every file changed, missing or "
        "added, and any log entry edited or removed.",
    )
    verify.add_argument("--edition", metavar="YYYY-MM[-vN]", help="one published edition only")
    verify.add_argument(
        "--data-dir", type=Path, metavar="DIR", help="data folder (PROBATION_DATA_DIR)"
    )

    rebuild = sub.add_parser(
        "rebuild",
        help="rebuild a published edition from its inputs and compare it with what was published",
        description="Rebuild a published edition from the landing files its loads.csv lists "
        "(checked by SHA-256), the inputs it was released with (its inputs/ folder) and the "
        "code of the git commit the release log recorded (a git worktree when the checkout "
        "differs), then compare every file with the published one: CSV, Parquet, the data "
        "dictionary, the bulletin and the validation result byte for byte, the XLSX and ODS "
        "cell by cell. Exit 1 on any difference.",
    )
    rebuild.add_argument(
        "--edition", required=True, metavar="YYYY-MM[-vN]", help="the published edition"
    )
    rebuild.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="an empty folder to build in"
    )
    rebuild.add_argument(
        "--landing", type=Path, metavar="DIR", help="landing folder (PROBATION_LANDING_DIR)"
    )
    rebuild.add_argument(
        "--data-dir", type=Path, metavar="DIR", help="data folder (PROBATION_DATA_DIR)"
    )

    editions = sub.add_parser("editions", help="list staged and published editions")
    editions.add_argument(
        "--data-dir", type=Path, metavar="DIR", help="data folder (PROBATION_DATA_DIR)"
    )

    sub.add_parser("calendar-seed", help="regenerate the business-day calendar dbt seed")
    return parser


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
    from orchestration.release.publish import ReleaseRefused, release_edition
    from orchestration.settings import Settings

    settings = Settings.from_env(data_dir=args.data_dir)
    try:
        entry = release_edition(
            settings, args.edition, args.approver, args.reason,
            access_granted=args.access_granted, xlsx_only=args.xlsx_only, dry_run=args.dry_run,
        )  # fmt: skip
    except ReleaseRefused as refused:
        print(f"error: {refused}", file=sys.stderr)
        return 1
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
        return 0
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
    return 0


def _verify(args: argparse.Namespace) -> int:
    from orchestration.release.publish import verify_published
    from orchestration.settings import Settings

    settings = Settings.from_env(data_dir=args.data_dir)
    problems, checked = verify_published(settings, args.edition)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"{checked} published files match the release log; its hash chain is intact "
          f"({settings.published_dir}).")  # fmt: skip
    return 0


def _rebuild(args: argparse.Namespace) -> int:
    from orchestration.release.edition_compare import format_verdicts
    from orchestration.release.rebuild import RebuildRefused, rebuild_edition
    from orchestration.settings import Settings

    settings = Settings.from_env(args.landing, args.data_dir)
    try:
        report = rebuild_edition(settings, args.edition, args.out)
    except RebuildRefused as refused:
        print(f"error: {refused}", file=sys.stderr)
        return 1
    for note in report.notes:
        print(f"note: {note}")
    for line in format_verdicts(report.verdicts):
        print(line)
    verdict = "identical to" if report.identical else "DIFFERENT from"
    print(f"Rebuilt {report.version} in {report.seconds:.1f}s ({report.folder}): {verdict} "
          "the published edition.")  # fmt: skip
    return 0 if report.identical else 1


def _editions(args: argparse.Namespace) -> int:
    from orchestration.release.publish import edition_states
    from orchestration.settings import Settings

    settings = Settings.from_env(data_dir=args.data_dir)
    rows = edition_states(settings)
    if not rows:
        print(f"No staged or published edition in {settings.data_dir}.")
        return 0
    width = max(len(r["edition"]) for r in rows)
    print(f"{'EDITION'.ljust(width)}  {'WHERE'.ljust(9)}  STATE")
    for r in rows:
        print(f"{r['edition'].ljust(width)}  {r['where'].ljust(9)}  {r['state']}")
    return 0


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
    out = args.out or Settings.from_env().landing_dir
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
    return 0


def _run(args: argparse.Namespace) -> int:
    from orchestration.running.runner import run_pipeline
    from orchestration.settings import Settings

    settings = Settings.from_env(args.landing, args.data_dir)
    if not settings.landing_dir.is_dir():
        raise UsageError(f"{settings.landing_dir}: landing folder not found")
    if settings.data_dir.exists() and not settings.data_dir.is_dir():
        raise UsageError(f"{settings.data_dir}: the data folder is a file, not a folder")
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
            return 1
        for failure in summary.failures:
            print(f"error: {failure}", file=sys.stderr)
        print(
            f"error: {len(summary.failures)} failure(s); outputs from earlier runs are "
            f"unchanged{log}",
            file=sys.stderr,
        )
        return 1
    return 0


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
    the last run is marked `*`: period_quality takes it at the next run."""
    from orchestration.settings import Settings
    from orchestration.warehouse.quality import (
        apply_reviews,
        read_flags,
        read_reviews,
        review_label,
    )
    from schemas.quality import FLAG_COLUMNS, ReviewFileError

    settings = Settings.from_env(data_dir=args.data_dir)
    try:
        last_run = read_flags(settings)
        reviews = read_reviews(settings.reviews_path)
    except (FileNotFoundError, ReviewFileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
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
    return 0


def _calendar_seed(_: argparse.Namespace) -> int:
    from orchestration.business_calendar import write_seed

    print(f"Wrote {write_seed()}")
    return 0


COMMANDS = {
    "demo-data": _demo_data,
    "run": _run,
    "flags": _flags,
    "calendar-seed": _calendar_seed,
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
    try:
        args = _parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # one line, not a traceback, for anything unforeseen
        from orchestration.running.run_report import plain

        print(f"error: {plain(str(error)) or 'unexpected failure'}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

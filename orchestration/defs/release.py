"""The release job: a person releases a staged edition from the Dagster UI, with the same
config and checks as `probation-pipeline release` (orchestration/release/publish.py). Nothing runs
it
on a schedule: the nightly run only builds staging."""

import dagster as dg

from orchestration.release.publish import ReleaseFailed, ReleaseRefused, release_edition
from orchestration.resources import PipelineResource


class ReleaseConfig(dg.Config):
    """Which staged edition to release, who approves it, for a correction why, when
    pre-release access was granted (YYYY-MM-DD HH:MM, UK time), and, to release without the
    ODS, why; dry_run reports what a release would do and changes nothing."""

    edition: str
    approver: str
    reason: str | None = None
    access_granted: str | None = None
    xlsx_only: str | None = None
    dry_run: bool = False


@dg.op(description="Copy the staged edition to published/ after checking the gate and the "
       "validation passed for exactly that staged build; log the release.")  # fmt: skip
def release_staged_edition(
    context: dg.OpExecutionContext, config: ReleaseConfig, pipeline: PipelineResource
) -> dg.Output:
    try:
        entry = release_edition(
            pipeline.settings(), config.edition, config.approver, config.reason,
            access_granted=config.access_granted, xlsx_only=config.xlsx_only,
            dry_run=config.dry_run,
        )  # fmt: skip
    except (ReleaseRefused, ReleaseFailed) as refused:
        raise dg.Failure(description=str(refused), allow_retries=False) from None
    done = "would release (dry run)" if config.dry_run else "released"
    context.log.info(f"{done} {entry['version']} to {entry['folder']}")
    return dg.Output(
        entry["version"],
        metadata={
            "version": entry["version"],
            "folder": dg.MetadataValue.path(entry["folder"]),
            "approver": entry["approver"],
            "reason": entry["reason"],
            "files": len(entry["files"]),
            "dry_run": config.dry_run,
        },
    )


@dg.job(
    description="Release a staged edition (config: edition, approver, reason, access_granted, "
    "xlsx_only, dry_run)."
)
def release_job():
    release_staged_edition()


@dg.definitions
def release() -> dg.Definitions:
    return dg.Definitions(jobs=[release_job])

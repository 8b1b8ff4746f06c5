-- Every data-quality flag raised from the data, with its review state: what the statistician
-- reviews before releasing an edition (`probation-pipeline flags` lists the same). Written by
-- the Dagster asset quality_flags; period_quality combines these flags per cell.
select
    flag_id,
    subject_type,
    subject,
    geography_code,
    month,
    rule,
    detail,
    status,
    decision,
    review_reason,
    reviewer,
    reviewed_on,
    reason
from {{ source('quality', 'flags') }}

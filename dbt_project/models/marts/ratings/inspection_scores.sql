-- Every HMIP inspection scored and banded (docs/methodology.md#ratings, seed 001): one row per
-- inspection, its number of standards, total score (each standard's points from seed
-- inspection_rating_scores: Outstanding 3, Good 2, Requires improvement 1, Inadequate 0), the
-- standards rated each way, and its overall rating from seed inspection_rating_bands by framework,
-- number of standards and total. An inspection whose framework and number of standards have no band
-- keeps a null rating (never dropped), and the not_null test on rating fails.
with standards as (
    select i.*, s.score
    from {{ ref('stg_inspections') }} as i
    left join {{ ref('inspection_rating_scores') }} as s using (rating)
),

inspections as (
    -- an inspection's rows share its organisation, framework and date; rows that disagree give
    -- the inspection two rows here, which the unique test on inspection_id reports
    select
        inspection_id,
        organisation_type,
        organisation_code,
        organisation_name,
        framework,
        published_date,
        count(*) as n_standards,
        sum(score)::integer as total_score,
        count(*) filter (where rating = 'OUTSTANDING') as standards_outstanding,
        count(*) filter (where rating = 'GOOD') as standards_good,
        count(*) filter (where rating = 'REQUIRES_IMPROVEMENT') as standards_requires_improvement,
        count(*) filter (where rating = 'INADEQUATE') as standards_inadequate
    from standards
    group by all
),

top_score as (
    select max(score) as points from {{ ref('inspection_rating_scores') }}
)

select
    i.inspection_id,
    i.organisation_type,
    i.organisation_code,
    i.organisation_name,
    i.framework,
    i.published_date,
    i.n_standards,
    i.n_standards * t.points as max_score,
    i.total_score,
    b.rating,
    i.standards_outstanding,
    i.standards_good,
    i.standards_requires_improvement,
    i.standards_inadequate
from inspections as i
cross join top_score as t
left join {{ ref('inspection_rating_bands') }} as b
    on b.framework = i.framework
    and b.n_standards = i.n_standards
    and i.total_score between b.min_total and b.max_total

-- The regional scorecard (docs/methodology.md#ratings): one row per region and performance year.
-- The score is the points earned as a percentage of the maximum over the measures that count
-- (region_rating_points); the data-driven rating (1 to 4) is the highest band of the seed
-- rating_bands whose min_score the score reaches. A moderation (stg_rating_moderations: the seed
-- rating_moderations or a file supplied) replaces the rating, keeps the data-driven one beside it,
-- and marks the row with `*` as the PTRS publication did (seed 000). Labels come from the seed
-- rating_labels for the scheme in the variable `rating_scheme` (SCORECARD, the planned iPRS /
-- Probation Scorecard; or PTRS). A year with no measure that counts has no score and no data-driven
-- rating.
{% set scheme = var("rating_scheme", "SCORECARD") %}

with points as (
    select * from {{ ref('region_rating_points') }}
),

scores as (
    select
        region_code,
        region_name,
        performance_year,
        count(*) filter (where counts) as measures_counted,
        count(*) filter (where weight > 0 and not counts) as measures_not_assessed,
        count(*) filter (where counts and outcome = 'EXCEPTIONAL') as exceptional,
        count(*) filter (where counts and outcome = 'MET') as met,
        count(*) filter (where counts and outcome = 'NEAR_MISS') as near_miss,
        count(*) filter (where counts and outcome = 'MISSED') as missed,
        sum(weighted_points) as points,
        sum(max_points) as max_points,
        min(months_counted) filter (where counts) as min_months_counted,
        max(months_counted) filter (where counts) as max_months_counted,
        coalesce(sum(months_suppressed) filter (where counts), 0) as measure_months_suppressed,
        coalesce(bool_or(provisional) filter (where counts), false) as provisional
    from points
    group by region_code, region_name, performance_year
),

scored as (
    select
        *,
        case when max_points > 0 then 100.0 * points / max_points end as score
    from scores
),

banded as (
    select
        s.*,
        (
            select max(b.rating)
            from {{ ref('rating_bands') }} as b
            where s.score >= b.min_score - 1e-9
        ) as data_rating
    from scored as s
),

labels as (
    select rating, label from {{ ref('rating_labels') }} where scheme = '{{ scheme }}'
),

moderated as (
    select
        b.*,
        m.moderated_rating,
        m.reason as moderation_reason,
        m.decided_by as moderation_decided_by,
        m.decided_on as moderation_decided_on,
        m.region_code is not null as moderated,
        coalesce(m.moderated_rating, b.data_rating) as rating
    from banded as b
    left join {{ ref('stg_rating_moderations') }} as m
        on m.region_code = b.region_code
        and m.performance_year = b.performance_year
)

select
    m.region_code,
    m.region_name,
    m.region_name || case when m.moderated then '*' else '' end as region_name_as_published,
    m.performance_year,
    m.measures_counted,
    m.measures_not_assessed,
    m.exceptional,
    m.met,
    m.near_miss,
    m.missed,
    m.points,
    m.max_points,
    m.score,
    m.data_rating,
    dl.label as data_rating_label,
    m.rating,
    rl.label as rating_label,
    '{{ scheme }}' as rating_scheme,
    m.moderated,
    case when m.moderated then '*' else '' end as moderation_marker,
    m.moderated_rating,
    m.moderation_reason,
    m.moderation_decided_by,
    m.moderation_decided_on,
    m.min_months_counted,
    m.max_months_counted,
    m.measure_months_suppressed,
    m.provisional
from moderated as m
left join labels as dl on dl.rating = m.data_rating
left join labels as rl on rl.rating = m.rating

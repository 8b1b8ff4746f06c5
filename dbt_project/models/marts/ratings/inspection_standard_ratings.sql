-- Organisations by standard (seed 001, comparison 3): one row per organisation and standard of
-- its latest inspection (the league table's), with the standard's rating and points, and the
-- organisation's rank on that standard among organisations of the same framework rated on the
-- same standard (same code and name: CRCs' 3.1 Unpaid work is not NPS divisions' 3.1 Court
-- reports). rank(): equal points share a rank and the next rank skips.
with latest as (
    select organisation_type, organisation_code, organisation_name, framework, inspection_id,
        published_date
    from {{ ref('inspection_league_table') }}
),

standards as (
    select
        l.*,
        i.standard_code,
        i.standard_name,
        i.rating,
        s.label as rating_label,
        s.score
    from latest as l
    inner join {{ ref('stg_inspections') }} as i using (inspection_id)
    left join {{ ref('inspection_rating_scores') }} as s on s.rating = i.rating
)

select
    *,
    rank() over (
        partition by framework, standard_code, standard_name order by score desc
    ) as rank_in_standard,
    count(*) over (partition by framework, standard_code, standard_name) as organisations_rated
from standards

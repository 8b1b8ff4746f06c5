{{ config(meta={"dagster": {"ref": {"name": "region_ratings"}}}) }}
-- Every moderation must name a region and performance year the scorecard rates: a moderation
-- that matches no rating row would otherwise change nothing, silently. The run checks this
-- before it starts (schemas/configuration.py); this test guards the warehouse itself.
select m.region_code, m.performance_year
from {{ ref('stg_rating_moderations') }} as m
left join {{ ref('region_ratings') }} as r
    on r.region_code = m.region_code
    and r.performance_year = m.performance_year
where r.region_code is null

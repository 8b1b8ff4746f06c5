-- The targets in force: one row per measure, performance year and geography (each region and
-- England and Wales). A region with an INTERIM ("ramp-up") target is held to it; otherwise the
-- END_STATE target for that geography, else the END_STATE target for every geography ('*').
-- Source: stg_targets (the illustrative seed, or a published file checked before the run).
with typed as (
    select * from {{ ref('stg_targets') }}
),

geographies as (
    select geography_code from {{ ref('dim_geographies') }}
),

candidates as (
    select
        t.measure_code,
        t.performance_year,
        g.geography_code,
        t.target_type,
        t.target,
        t.near_miss_tolerance,
        t.source,
        case
            when t.geography_code = g.geography_code and t.target_type = 'INTERIM' then 1
            when t.geography_code = g.geography_code then 2
            else 3
        end as precedence
    from typed as t
    inner join geographies as g
        on g.geography_code = t.geography_code
        or (t.geography_code = '*' and t.target_type = 'END_STATE')
)

select measure_code, performance_year, geography_code, target_type, target, near_miss_tolerance,
    source
from candidates
qualify row_number() over (
    partition by measure_code, performance_year, geography_code order by precedence
) = 1

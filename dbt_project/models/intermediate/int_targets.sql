-- The targets in force: one row per measure, performance year and geography (each region and
-- England and Wales). A region with an INTERIM ("ramp-up") target is held to it; otherwise the
-- END_STATE target for that geography, else the END_STATE target for every geography ('*').
-- Source: the seed `targets` (illustrative values), or the file named by PROBATION_TARGETS_FILE
-- (same columns) when set; README "Targets" explains how to load a published file.
{% set targets_file = env_var('PROBATION_TARGETS_FILE', '') %}
with targets as (
    {% if targets_file %}
    select * from read_csv('{{ targets_file }}', header = true, all_varchar = true)
    {% else %}
    select * from {{ ref('targets') }}
    {% endif %}
),

typed as (
    select
        measure_code,
        performance_year,
        geography_code,
        target_type,
        target::double as target,
        coalesce(nullif(near_miss_tolerance::varchar, ''), '0.03')::double as near_miss_tolerance,
        source
    from targets
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
        on t.geography_code = g.geography_code
        or (t.geography_code = '*' and t.target_type = 'END_STATE')
)

select measure_code, performance_year, geography_code, target_type, target, near_miss_tolerance,
    source
from candidates
qualify row_number() over (
    partition by measure_code, performance_year, geography_code order by precedence
) = 1

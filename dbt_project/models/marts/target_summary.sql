-- How many service levels met target each performance year, nationally: "N of M service levels
-- met target" (near misses counted separately). Only measures with a target and cases count.
with national_years as (
    select *
    from {{ ref('target_attainment') }}
    where period_type = 'PERFORMANCE_YEAR'
      and geography_code = '{{ var("national_code") }}'
      and status is not null
)

select
    performance_year,
    count(*) as measures_assessed,
    count(*) filter (where status = 'MET') as met,
    count(*) filter (where status = 'NEAR_MISS') as near_miss,
    count(*) filter (where status = 'MISSED') as missed,
    bool_or(provisional) as provisional,
    any_value(target_source) as target_source,
    count(*) filter (where status = 'MET')::varchar || ' of ' || count(*)::varchar
        || ' service levels met target' as summary
from national_years
group by performance_year

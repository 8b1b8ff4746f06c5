-- Each computed measure by calendar quarter, for every region and for England and Wales:
-- numerators and denominators summed over the quarter's months (never an average of monthly
-- percentages). months_in_quarter says how many of the quarter's three months are loaded; a
-- quarter is provisional when any of its months is.
with monthly as (
    select * from {{ ref('measure_monthly') }}
),

quarters as (
    select
        measure_code,
        geography_level,
        geography_code,
        geography_name,
        date_trunc('quarter', month)::date as quarter_start,
        sum(numerator) as numerator,
        sum(denominator) as denominator,
        count(*) as months_in_quarter,
        bool_or(provisional) as provisional
    from monthly
    group by all
)

select
    measure_code,
    geography_level,
    geography_code,
    geography_name,
    quarter_start,
    strftime(quarter_start, '%Y') || ' Q' || quarter(quarter_start)::varchar as quarter,
    numerator::bigint as numerator,
    denominator::bigint as denominator,
    case when denominator > 0 then numerator / denominator end as performance,
    months_in_quarter,
    months_in_quarter = 3 as complete,
    provisional
from quarters

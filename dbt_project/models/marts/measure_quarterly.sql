-- Each computed measure by calendar quarter, for every region and for England and Wales:
-- numerators and denominators summed over the quarter's months (never an average of monthly
-- percentages). months_in_quarter says how many of the quarter's three months are loaded; a
-- quarter is provisional when any of its months is, and provisional_reason gathers the
-- extract-months that hold its months.
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
        bool_or(provisional) as provisional,
        {{ merge_provisional_reasons('provisional_reason') }} as provisional_reason,
        sum(final_cases) as final_cases
    from monthly
    group by all
)

select
    measure_code,
    geography_level,
    geography_code,
    geography_name,
    quarter_start,
    {{ quarter_label('quarter_start') }} as quarter,
    numerator::bigint as numerator,
    denominator::bigint as denominator,
    case when denominator > 0 then numerator / denominator end as performance,
    months_in_quarter,
    months_in_quarter = 3 as complete,
    provisional,
    provisional_reason,
    final_cases::bigint as final_cases
from quarters

-- Each computed measure by month, for every region and for England and Wales: case-level
-- measures from the landing extracts and aggregated measures from measure_returns. Measures
-- "to be determined" in the catalogue are never computed. Performance is
-- numerator / denominator, unrounded; the national row sums the regions' numerators and
-- denominators. Every measure x region x month in the loaded range has a row: a month with no
-- cases has denominator 0 and a null performance. A month is provisional while the measurement
-- window of any of its cases closes after the last day covered by every extract the measure
-- reads (a later delivery could still complete it).
with regional_counts as (
    select * from {{ ref('int_measure_regional_counts') }}
),

measure_coverage as (
    select * from {{ ref('int_measure_coverage') }}
),

cohort_months as (
    select * from {{ ref('int_cohort_months') }}
),

computed_measures as (
    select measure_code
    from {{ ref('measure_catalogue') }}
    where method in ('CASE_LEVEL', 'RETURNED')
),

grid as (
    select m.measure_code, r.region_code, r.region_name, cm.month
    from computed_measures as m
    cross join {{ ref('regions') }} as r
    cross join cohort_months as cm
),

regional as (
    select
        g.measure_code,
        'REGION' as geography_level,
        g.region_code as geography_code,
        g.region_name as geography_name,
        g.month,
        coalesce(rc.numerator, 0) as numerator,
        coalesce(rc.denominator, 0) as denominator,
        coalesce(rc.last_window_end_date, last_day(g.month)) > mc.covered_until as provisional
    from grid as g
    left join regional_counts as rc
        on rc.measure_code = g.measure_code
        and rc.region_code = g.region_code
        and rc.month = g.month
    left join measure_coverage as mc on mc.measure_code = g.measure_code
),

national as (
    select
        measure_code,
        'NATIONAL' as geography_level,
        '{{ var("national_code") }}' as geography_code,
        '{{ var("national_name") }}' as geography_name,
        month,
        sum(numerator) as numerator,
        sum(denominator) as denominator,
        bool_or(provisional) as provisional
    from regional
    group by measure_code, month
),

combined as (
    select * from regional
    union all
    select * from national
)

select
    measure_code,
    geography_level,
    geography_code,
    geography_name,
    month,
    numerator::bigint as numerator,
    denominator::bigint as denominator,
    case when denominator > 0 then numerator / denominator end as performance,
    coalesce(provisional, true) as provisional
from combined

-- Each computed measure by month, for every region and for England and Wales: case-level measures
-- from the landing extracts and aggregated measures from measure_returns. Measures "to be
-- determined" in the catalogue are never computed. Performance is numerator / denominator,
-- unrounded; the national row sums the regions' numerators and denominators. Every measure x region
-- x month in the loaded range has a row: a month with no cases has denominator 0 and a null
-- performance. A cell is provisional (docs/methodology.md#measures) while any of its cases is
-- (int_case_window_holds), or while its own month has no accepted delivery of an extract the
-- measure reads, whether or not any case is visible. provisional_reason names the extract-months
-- that hold it; final_cases counts the cases no later delivery can change.
with cohort_months as (
    select * from {{ ref('int_cohort_months') }}
),

regional_counts as (
    select * from {{ ref('int_measure_regional_counts') }}
),

loads as (
    select extract, month from {{ ref('stg_loads') }}
),

own_month_gaps as (
    -- the extract-months a cell's own month lacks
    select
        s.measure_code,
        cm.month,
        list(s.extract || ' ' || strftime(cm.month, '%Y-%m') || ' not delivered' order by s.extract)
            as holds
    from {{ ref('int_measure_sources') }} as s
    cross join cohort_months as cm
    left join loads as l on l.extract = s.extract and l.month = cm.month
    where l.extract is null
    group by all
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
        coalesce(rc.final_cases, 0) as final_cases,
        list_sort(list_distinct(list_concat(
            coalesce(rc.holds, cast([] as varchar[])), coalesce(gap.holds, cast([] as varchar[]))
        ))) as holds
    from grid as g
    left join regional_counts as rc
        on rc.measure_code = g.measure_code
        and rc.region_code = g.region_code
        and rc.month = g.month
    left join own_month_gaps as gap on gap.measure_code = g.measure_code and gap.month = g.month
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
        sum(final_cases) as final_cases,
        list_sort(list_distinct(flatten(list(holds)))) as holds
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
    len(holds) > 0 as provisional,
    nullif(array_to_string(holds, '; '), '') as provisional_reason,
    final_cases::bigint as final_cases
from combined

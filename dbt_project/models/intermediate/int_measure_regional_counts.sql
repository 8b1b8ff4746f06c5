-- Numerator and denominator of every computed measure by region and month: case-level measures
-- counted from their cases, aggregated measures as delivered in measure_returns (only codes the
-- catalogue marks RETURNED; the landing contract rejects any other code).
with case_counts as (
    select
        measure_code,
        region_code,
        month,
        count(*) filter (where in_numerator) as numerator,
        count(*) as denominator,
        max(window_end_date) as last_window_end_date
    from {{ ref('int_measure_cases') }}
    group by measure_code, region_code, month
),

returned as (
    select
        r.measure_code,
        r.region_code,
        strptime(r.period_month || '-01', '%Y-%m-%d')::date as month,
        r.numerator,
        r.denominator,
        last_day(strptime(r.period_month || '-01', '%Y-%m-%d')::date) as last_window_end_date
    from {{ ref('stg_measure_returns') }} as r
    inner join {{ ref('measure_catalogue') }} as c
        on c.measure_code = r.measure_code
        and c.method = 'RETURNED'
)

select * from case_counts
union all
select * from returned

-- Numerator and denominator of every computed measure by region and month: case-level measures
-- counted from their cases, aggregated measures as delivered in measure_returns (only codes the
-- catalogue marks RETURNED; the landing contract rejects any other code). final_cases counts the
-- cases no later delivery can change (int_case_window_holds has no row for their window);
-- holds lists, for the others, the extract-months that keep them provisional. A returned row is
-- final as delivered: only a missing month of measure_returns holds it (measure_monthly).
with window_holds as (
    select
        measure_code,
        month,
        window_end_date,
        list(distinct hold_label order by hold_label) as holds
    from {{ ref('int_case_window_holds') }}
    group by all
),

case_windows as (
    select
        measure_code,
        region_code,
        month,
        window_end_date,
        count(*) filter (where in_numerator) as numerator,
        count(*) as denominator
    from {{ ref('int_measure_cases') }}
    group by all
),

case_counts as (
    select
        c.measure_code,
        c.region_code,
        c.month,
        sum(c.numerator) as numerator,
        sum(c.denominator) as denominator,
        coalesce(sum(c.denominator) filter (where h.holds is null), 0) as final_cases,
        coalesce(
            list_sort(list_distinct(flatten(list(h.holds) filter (where h.holds is not null)))),
            cast([] as varchar[])
        ) as holds
    from case_windows as c
    left join window_holds as h
        on h.measure_code = c.measure_code
        and h.month = c.month
        and h.window_end_date is not distinct from c.window_end_date
    group by c.measure_code, c.region_code, c.month
),

returned as (
    select
        r.measure_code,
        r.region_code,
        strptime(r.period_month || '-01', '%Y-%m-%d')::date as month,
        r.numerator,
        r.denominator,
        r.denominator as final_cases,
        cast([] as varchar[]) as holds
    from {{ ref('stg_measure_returns') }} as r
    inner join {{ ref('measure_catalogue') }} as c
        on c.measure_code = r.measure_code
        and c.method = 'RETURNED'
)

select * from case_counts
union all
select * from returned

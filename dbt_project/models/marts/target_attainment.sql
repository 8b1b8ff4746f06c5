-- Performance against target by measure, geography and period: each performance year (April to
-- March) and each calendar quarter, from the months on or after the measure's valid-from month.
-- Only trustworthy months count: a month whose cell is SUPPRESS in period_quality (a known
-- poor-quality period, or a flag the statistician reviewed as "suppress") is left out of the
-- period's numerator and denominator, each geography by its own status. Numerators and
-- denominators of the months counted are summed (never averaged). Status is MET / NEAR_MISS /
-- MISSED for the measure's polarity (macro attainment_status); null where there is no valid
-- month or no cases. A period is provisional when any month counted is; final_cases counts the
-- cases of the months counted that no later delivery can change.
with quality as (
    select subject as measure_code, geography_code, month, status
    from {{ ref('period_quality') }}
    where subject_type = 'MEASURE'
),

monthly as (
    select
        m.*,
        c.polarity,
        {{ performance_year('m.month') }} as performance_year,
        coalesce(q.status = 'SUPPRESS', false) as suppressed
    from {{ ref('measure_monthly') }} as m
    inner join {{ ref('measure_catalogue') }} as c using (measure_code)
    left join quality as q
        on q.measure_code = m.measure_code
        and q.geography_code = m.geography_code
        and q.month = m.month
    where m.month >= c.valid_from
),

monthly_periods as (
    -- each month once in its performance year and once in its calendar quarter (calendar
    -- quarters never straddle two performance years)
    select *, 'PERFORMANCE_YEAR' as period_type, performance_year as period from monthly
    union all
    select
        *,
        'QUARTER' as period_type,
        {{ quarter_label('month') }} as period
    from monthly
),

periods as (
    select
        measure_code, polarity, geography_level, geography_code, geography_name,
        period_type, period, performance_year,
        min(month) as first_month,
        max(month) as last_month,
        count(*) as months,
        count(*) filter (where not suppressed) as months_counted,
        count(*) filter (where suppressed) as months_suppressed,
        sum(numerator) filter (where not suppressed) as numerator,
        sum(denominator) filter (where not suppressed) as denominator,
        coalesce(bool_or(provisional) filter (where not suppressed), false) as provisional,
        sum(final_cases) filter (where not suppressed) as final_cases
    from monthly_periods
    group by all
),

scored as (
    select
        p.*,
        case when p.denominator > 0 then p.numerator / p.denominator end as performance,
        t.target,
        t.target_type,
        t.near_miss_tolerance,
        t.source as target_source
    from periods as p
    inner join {{ ref('int_targets') }} as t
        on t.measure_code = p.measure_code
        and t.performance_year = p.performance_year
        and t.geography_code = p.geography_code
)

select
    measure_code,
    polarity,
    geography_level,
    geography_code,
    geography_name,
    period_type,
    period,
    performance_year,
    first_month,
    last_month,
    months,
    months_counted,
    months_suppressed,
    numerator,
    denominator,
    performance,
    target,
    target_type,
    near_miss_tolerance,
    target_source,
    {{ attainment_status('performance', 'target', 'polarity', 'near_miss_tolerance') }} as status,
    provisional,
    final_cases::bigint as final_cases
from scored

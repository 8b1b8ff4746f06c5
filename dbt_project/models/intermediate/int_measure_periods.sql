-- Published measures by month, calendar quarter and performance year (April to March), for
-- England and Wales and each region: numerators and denominators summed over the period's months
-- (never averaged), with the period's quality status (the strictest of its months, macro
-- quality_severity), every reason and note key of its months, and whether it is provisional (a
-- month provisional, or fewer months loaded than the period has), with the extract-months that
-- hold it and how many of its cases are final.
with quality as (
    select
        subject as measure_code,
        geography_code,
        month,
        status,
        reasons,
        note_keys,
        unreviewed_flag_ids
    from {{ ref('period_quality') }}
    where subject_type = 'MEASURE'
),

months as (
    select
        m.measure_code,
        m.geography_level,
        m.geography_code,
        m.geography_name,
        m.month,
        m.numerator,
        m.denominator,
        m.provisional,
        m.provisional_reason,
        m.final_cases,
        {{ quality_severity('q.status') }} as severity,
        nullif(q.reasons, '') as reasons,
        nullif(q.note_keys, '') as note_keys,
        nullif(q.unreviewed_flag_ids, '') as unreviewed_flag_ids
    from {{ ref('measure_monthly') }} as m
    inner join {{ ref('dim_measures') }} as c on c.measure_code = m.measure_code and c.is_published
    left join quality as q
        on q.measure_code = m.measure_code
        and q.geography_code = m.geography_code
        and q.month = m.month
),

months_in_periods as (
    {{ months_in_periods('months') }}
)

select
    measure_code,
    geography_level,
    geography_code,
    geography_name,
    period_type,
    period,
    period_start,
    (period_start + to_months(any_value(months_in_period)) - interval 1 day)::date as period_end,
    any_value(months_in_period) as months_in_period,
    count(*) as months_loaded,
    sum(numerator)::bigint as numerator,
    sum(denominator)::bigint as denominator,
    case when sum(denominator) > 0 then sum(numerator) / sum(denominator) end as performance,
    bool_or(provisional) or count(*) < any_value(months_in_period) as provisional,
    {{ merge_provisional_reasons('provisional_reason') }} as provisional_reason,
    sum(final_cases)::bigint as final_cases,
    {{ quality_status_of('max(severity)') }} as quality_status,
    coalesce(string_agg(distinct reasons, ' | ' order by reasons), '') as quality_reasons,
    {{ union_note_keys('note_keys') }} as note_keys,
    coalesce(string_agg(distinct unreviewed_flag_ids, ', ' order by unreviewed_flag_ids), '')
        as unreviewed_flag_ids
from months_in_periods
group by measure_code, geography_level, geography_code, geography_name, period_type, period,
    period_start

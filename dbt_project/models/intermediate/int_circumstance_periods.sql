-- Accommodation and employment circumstances by month, calendar quarter and performance year:
-- people per status at each checkpoint, for England and Wales (breakdown NATIONAL) and by each
-- breakdown, with one more row per group (category TOTAL) holding the group's total. Counts are
-- summed over the period's months and unsuppressed here (int_circumstance_disclosure applies
-- [c]). The quality status of a cell is the strictest of its months for the extract it is
-- counted from: the region's own status for the REGION breakdown, England and Wales otherwise.
{% set national = var("national_code") %}

with monthly as (
    select 'ACCOMMODATION' as topic, 'accommodation_checks' as extract, *
    from {{ ref('accommodation_circumstances') }}
    union all
    select 'EMPLOYMENT' as topic, 'employment_checks' as extract, *
    from {{ ref('employment_circumstances') }}
),

categories as (
    select topic, extract, checkpoint, month, breakdown, breakdown_value, status as category, people
    from monthly
    union all
    select topic, extract, checkpoint, month, breakdown, breakdown_value, 'TOTAL' as category,
        any_value(total) as people
    from monthly
    group by all
),

months_in_periods as (
    {{ months_in_periods('categories') }}
),

counts as (
    select topic, checkpoint, period_type, period, breakdown, breakdown_value, category,
        sum(people)::bigint as people
    from months_in_periods
    group by all
),

groups as (
    -- every group with its period's months and the strictest quality status among them
    select
        g.topic, g.checkpoint, g.period_type, g.period, g.period_start, g.breakdown,
        g.breakdown_value,
        any_value(g.months_in_period) as months_in_period,
        count(distinct g.month) as months_loaded,
        {{ quality_status_of('max(' ~ quality_severity('q.status') ~ ')') }} as quality_status,
        coalesce(
            string_agg(distinct nullif(q.reasons, ''), ' | ' order by nullif(q.reasons, '')), ''
        ) as quality_reasons,
        {{ union_note_keys('q.note_keys') }} as note_keys,
        coalesce(
            string_agg(
                distinct nullif(q.unreviewed_flag_ids, ''), ', '
                order by nullif(q.unreviewed_flag_ids, '')
            ),
            ''
        ) as unreviewed_flag_ids
    from months_in_periods as g
    left join {{ ref('period_quality') }} as q
        on q.subject_type = 'EXTRACT'
        and q.subject = g.extract
        and q.month = g.month
        and q.geography_code
            = case when g.breakdown = 'REGION' then g.breakdown_value else '{{ national }}' end
    where g.category = 'TOTAL'
    group by all
),

period_categories as (
    -- every category seen in the period, so a group where nobody had a status shows 0
    select distinct topic, checkpoint, period_type, period, category from counts
)

select
    g.topic,
    g.checkpoint,
    g.period_type,
    g.period,
    g.period_start,
    (g.period_start + to_months(g.months_in_period) - interval 1 day)::date as period_end,
    g.breakdown,
    g.breakdown_value,
    pc.category,
    g.months_in_period,
    g.months_loaded,
    coalesce(c.people, 0) as people,
    g.quality_status,
    g.quality_reasons,
    g.note_keys,
    g.unreviewed_flag_ids
from groups as g
inner join period_categories as pc using (topic, checkpoint, period_type, period)
left join counts as c
    using (topic, checkpoint, period_type, period, breakdown, breakdown_value, category)

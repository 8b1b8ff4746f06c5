-- What every published cell is: one row per table group, subject, breakdown, category and
-- period, with unrounded values. This is the one place that decides a cell's status; the
-- publication assets only pick an edition's window, round and write, and the publication gate
-- reads the same rows.
--
-- Cell status, first rule that applies wins:
-- 1. suppressed [x]: the period's quality status is SUPPRESS (period_quality; a quarter or year
--    takes the strictest status of its months, macro quality_severity);
-- 2. not applicable [z]: the period starts before the measure's valid-from date;
-- 3. confidential [c]: a small count, or one suppressed so that a small count cannot be worked
--    out (int_circumstance_disclosure);
-- 4. not applicable [z]: no cases (the counts are published as 0, the rate is not);
-- 5. not yet complete [x]: provisional, and fewer than var provisional_min_final_share of its
--    cases are final (a figure most of whose cases are still open would mislead);
-- 6. provisional [p]: a later delivery can still change the figure;
-- 7. published.
-- holds_edition marks a cell that carries an unreviewed quality flag (WARN) and would publish
-- something other than [z]: the gate holds an edition with such a cell in its window.
{% set national = var("national_code") %}

with labels as (
    select * from {{ ref('publication_labels') }}
),

measures as (
    select
        'MEASURE' as table_group,
        p.measure_code as subject,
        c.measure_name as subject_name,
        p.geography_level as breakdown,
        p.geography_code as breakdown_value,
        p.geography_name as breakdown_value_name,
        'ALL' as category,
        p.geography_code,
        p.geography_name,
        p.period_type,
        p.period,
        p.period_start,
        p.period_end,
        p.months_in_period,
        p.months_loaded,
        p.numerator,
        p.denominator,
        p.performance as value,
        cast(null as double) as target,
        cast(null as varchar) as attainment,
        p.provisional,
        p.provisional_reason,
        p.final_cases,
        false as confidential,
        false as value_confidential,
        p.period_start < c.valid_from as before_valid_from,
        p.quality_status,
        p.quality_reasons,
        p.note_keys,
        p.unreviewed_flag_ids
    from {{ ref('int_measure_periods') }} as p
    inner join {{ ref('dim_measures') }} as c using (measure_code)
),

attainment_quality as (
    -- the months a target attainment figure rests on: a suppressed month is left out of it,
    -- so only the other months' statuses apply; its reasons and notes still explain it
    select
        t.measure_code,
        t.geography_code,
        t.period_type,
        t.period,
        max({{ quality_severity('q.status') }}) filter (where q.status <> 'SUPPRESS')
            as severity,
        coalesce(
            string_agg(distinct nullif(q.reasons, ''), ' | ' order by nullif(q.reasons, '')), ''
        ) as quality_reasons,
        {{ union_note_keys('q.note_keys') }} as note_keys,
        coalesce(
            string_agg(
                distinct nullif(q.unreviewed_flag_ids, ''), ', '
                order by nullif(q.unreviewed_flag_ids, '')
            ) filter (where q.status <> 'SUPPRESS'),
            ''
        ) as unreviewed_flag_ids
    from {{ ref('target_attainment') }} as t
    inner join {{ ref('period_quality') }} as q
        on q.subject_type = 'MEASURE'
        and q.subject = t.measure_code
        and q.geography_code = t.geography_code
        and q.month between t.first_month and t.last_month
    group by all
),

attainment as (
    select
        'TARGET_ATTAINMENT' as table_group,
        t.measure_code as subject,
        m.measure_name as subject_name,
        t.geography_level as breakdown,
        t.geography_code as breakdown_value,
        t.geography_name as breakdown_value_name,
        'ALL' as category,
        t.geography_code,
        t.geography_name,
        t.period_type,
        t.period,
        p.period_start,
        p.period_end,
        p.months_in_period,
        t.months_counted as months_loaded,
        t.numerator::bigint as numerator,
        t.denominator::bigint as denominator,
        t.performance as value,
        t.target,
        t.status as attainment,
        t.provisional,
        p.provisional_reason,
        t.final_cases,
        false as confidential,
        false as value_confidential,
        false as before_valid_from,
        case
            when t.months_counted = 0 then 'SUPPRESS'
            else {{ quality_status_of('q.severity') }}
        end as quality_status,
        coalesce(q.quality_reasons, '') as quality_reasons,
        coalesce(q.note_keys, '') as note_keys,
        coalesce(q.unreviewed_flag_ids, '') as unreviewed_flag_ids
    from {{ ref('target_attainment') }} as t
    inner join {{ ref('dim_measures') }} as m
        on m.measure_code = t.measure_code and m.is_published
    inner join {{ ref('int_measure_periods') }} as p
        on p.measure_code = t.measure_code
        and p.geography_code = t.geography_code
        and p.period_type = t.period_type
        and p.period = t.period
    left join attainment_quality as q
        on q.measure_code = t.measure_code
        and q.geography_code = t.geography_code
        and q.period_type = t.period_type
        and q.period = t.period
),

circumstances as (
    select
        d.topic as table_group,
        d.checkpoint as subject,
        coalesce(cl.label, d.checkpoint) as subject_name,
        d.breakdown,
        d.breakdown_value,
        coalesce(g.geography_name, d.breakdown_value) as breakdown_value_name,
        d.category,
        coalesce(g.geography_code, '{{ national }}') as geography_code,
        coalesce(g.geography_name, '{{ var("national_name") }}') as geography_name,
        d.period_type,
        d.period,
        d.period_start,
        d.period_end,
        d.months_in_period,
        d.months_loaded,
        d.people as numerator,
        d.group_total as denominator,
        case when d.group_total > 0 then d.people / d.group_total end as value,
        cast(null as double) as target,
        cast(null as varchar) as attainment,
        false as provisional,
        cast(null as varchar) as provisional_reason,
        cast(null as bigint) as final_cases,
        d.confidential,
        d.share_confidential as value_confidential,
        false as before_valid_from,
        d.quality_status,
        d.quality_reasons,
        d.note_keys,
        d.unreviewed_flag_ids
    from {{ ref('int_circumstance_disclosure_audit') }} as d
    left join {{ ref('dim_geographies') }} as g
        on d.breakdown in ('NATIONAL', 'REGION') and g.geography_code = d.breakdown_value
    left join labels as cl on cl.kind = 'CHECKPOINT' and cl.code = d.checkpoint
),

cells as (
    select * from measures
    union all
    select * from attainment
    union all
    select * from circumstances
),

statused as (
    select
        cells.*,
        coalesce(bl.label, cells.breakdown) as breakdown_name,
        coalesce(
            cl.label,
            upper(left(cells.category, 1)) || lower(replace(substr(cells.category, 2), '_', ' '))
        ) as category_name,
        case
            when cells.quality_status = 'SUPPRESS' then 'suppressed'
            when cells.before_valid_from then 'not applicable'
            when cells.confidential then 'confidential'
            when coalesce(cells.denominator, 0) = 0 then 'not applicable'
            when cells.provisional
                and coalesce(cells.final_cases, cells.denominator)
                    < {{ var('provisional_min_final_share') }} * cells.denominator
                then 'not yet complete'
            when cells.provisional then 'provisional'
            else 'published'
        end as cell_status
    from cells
    left join labels as bl on bl.kind = 'BREAKDOWN' and bl.code = cells.breakdown
    left join labels as cl on cl.kind = 'CATEGORY' and cl.code = cells.category
)

select
    table_group,
    subject,
    subject_name,
    breakdown,
    breakdown_name,
    breakdown_value,
    breakdown_value_name,
    category,
    category_name,
    geography_code,
    geography_name,
    period_type,
    period,
    period_start,
    period_end,
    months_in_period,
    months_loaded,
    numerator,
    denominator,
    value,
    target,
    attainment,
    provisional,
    provisional_reason,
    final_cases,
    quality_status,
    quality_reasons,
    note_keys,
    unreviewed_flag_ids,
    cell_status,
    case cell_status
        when 'suppressed' then '[x]'
        when 'not yet complete' then '[x]'
        when 'not applicable' then '[z]'
        when 'confidential' then '[c]'
        when 'provisional' then '[p]'
        else ''
    end as shorthand,
    cell_status in ('provisional', 'published')
        or (cell_status = 'not applicable' and not before_valid_from) as counts_published,
    cell_status in ('provisional', 'published') and not value_confidential as value_published,
    case
        when cell_status in ('suppressed', 'not yet complete') then '[x]'
        when cell_status = 'not applicable' then '[z]'
        when cell_status = 'confidential' or value_confidential then '[c]'
        else ''
    end as value_shorthand,
    quality_status = 'WARN' and cell_status <> 'not applicable' as holds_edition
from statused

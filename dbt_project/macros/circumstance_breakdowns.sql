{#- Circumstances at each checkpoint by month, for England and Wales and broken down by region,
    sex, age band, ethnicity, main offence category and custodial sentence length: people per
    status (0 where none), the group's total and the status's share of it (unrounded). -#}
{% macro circumstance_breakdowns(topic) -%}
{% set breakdowns = {
    'REGION': 'region_code',
    'SEX': 'sex',
    'AGE_BAND': 'age_band',
    'ETHNICITY': 'ethnicity',
    'OFFENCE': 'main_offence_category',
    'CUSTODIAL_LENGTH': 'custodial_length_band',
} %}
with checks as (
    select * from {{ ref('int_circumstance_checks') }} where topic = '{{ topic }}'
),

counts as (
    select checkpoint, month, 'NATIONAL' as breakdown,
        '{{ var("national_code") }}' as breakdown_value, status, count(*) as people
    from checks
    group by all
    {% for name, column in breakdowns.items() %}
    union all
    select checkpoint, month, '{{ name }}' as breakdown, {{ column }} as breakdown_value, status,
        count(*) as people
    from checks
    group by all
    {% endfor %}
),

statuses as (
    select distinct status from checks
),

grid as (
    -- every status for every group, so a status nobody had shows as 0 rather than missing
    select g.checkpoint, g.month, g.breakdown, g.breakdown_value, s.status
    from (select distinct checkpoint, month, breakdown, breakdown_value from counts) as g
    cross join statuses as s
),

filled as (
    select g.*, coalesce(c.people, 0) as people
    from grid as g
    left join counts as c using (checkpoint, month, breakdown, breakdown_value, status)
)

select
    checkpoint,
    month,
    breakdown,
    breakdown_value,
    status,
    people,
    sum(people) over (partition by checkpoint, month, breakdown, breakdown_value) as total,
    people / sum(people) over (partition by checkpoint, month, breakdown, breakdown_value)
        as share
from filled
{%- endmacro %}

-- SL040 recording protected characteristics: one row per person with an event active in the
-- month, with the characteristics of that month's persons file and the region of their
-- latest-starting active event. In the numerator when sex, ethnicity, disability, religion and
-- sexual orientation are all recorded (not null and not UNKNOWN). A person missing from the
-- month's persons file counts as not recorded. An event that vanished from the deliveries
-- (stg_events) is not active after the last month whose file held it.
{{ config(
    materialized="incremental",
    incremental_strategy="append",
    pre_hook="{{ delete_person_months() }}",
) }}
-- depends_on: {{ ref('int_affected_person_months') }}
with active as (
    select e.crn, e.region_code, e.start_date, e.event_id, m.month
    from {{ ref('stg_events') }} as e
    {%- if incremental_refresh() %}
    inner join ({{ person_month_scope() }}) as m
        on m.crn = e.crn
        and {% else %}
    inner join {{ ref('int_cohort_months') }} as m
        on {% endif -%}
e.start_date <= last_day(m.month)
        and (e.termination_date is null or e.termination_date >= m.month)
        and (e.vanished_after_month is null or m.month <= e.vanished_after_month)
),

people as (
    select crn, month, region_code
    from active
    qualify row_number() over (
        partition by crn, month order by start_date desc, event_id desc
    ) = 1
),

recorded as (
    select crn, month
    from {{ ref('stg_persons_monthly') }}
    where {% for column in ['sex', 'ethnicity', 'disability', 'religion', 'sexual_orientation'] %}
        coalesce({{ column }} not in ('', 'UNKNOWN'), false){% if not loop.last %} and{% endif %}
    {% endfor %}
)

select
    'SL040' as measure_code,
    p.crn as case_id,
    p.region_code,
    p.month,
    last_day(p.month) as window_end_date,
    r.crn is not null as in_numerator
from people as p
left join recorded as r on r.crn = p.crn and r.month = p.month

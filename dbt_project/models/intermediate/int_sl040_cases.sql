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
with people as (
    {{ person_months('any_day') }}
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

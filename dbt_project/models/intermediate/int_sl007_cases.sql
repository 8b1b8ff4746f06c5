-- SL007 monthly appointments offered: one row per person (crn) and month, for people with an
-- event of any type that started before the month and was not terminated before its last day
-- (so supervised over the whole month). The person's region is that of their latest-starting
-- such event. In the numerator when at least one in-person contact (OFFICE or HOME_VISIT) for
-- the person is dated in the month. An event that vanished from the deliveries (stg_events) is
-- not supervised after the last month whose file held it.
{{ config(
    materialized="incremental",
    incremental_strategy="append",
    pre_hook="{{ delete_person_months() }}",
) }}
-- depends_on: {{ ref('int_affected_person_months') }}
with supervised as (
    select
        e.crn,
        e.region_code,
        e.start_date,
        e.event_id,
        m.month
    from {{ ref('stg_events') }} as e
    {%- if incremental_refresh() %}
    inner join ({{ person_month_scope() }}) as m
        on m.crn = e.crn
        and {% else %}
    inner join {{ ref('int_cohort_months') }} as m
        on {% endif -%}
e.start_date < m.month
        and (e.termination_date is null or e.termination_date >= last_day(m.month))
        and (e.vanished_after_month is null or m.month <= e.vanished_after_month)
),

people as (
    select crn, month, region_code
    from supervised
    qualify row_number() over (
        partition by crn, month order by start_date desc, event_id desc
    ) = 1
),

seen_in_person as (
    select distinct crn, date_trunc('month', contact_date)::date as month
    from {{ ref('int_in_person_contacts') }}
)

select
    'SL007' as measure_code,
    p.crn as case_id,
    p.region_code,
    p.month,
    last_day(p.month) as window_end_date,
    s.crn is not null as in_numerator
from people as p
left join seen_in_person as s on s.crn = p.crn and s.month = p.month

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
with people as (
    {{ person_months('whole_month') }}
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

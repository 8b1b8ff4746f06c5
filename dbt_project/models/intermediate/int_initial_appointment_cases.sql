-- SL004 (community sentences) and SL005 (releases from custody): one row per event of the
-- measure's types, by the month of its start (sentence or release) date. In the numerator when
-- an in-person contact is dated within the measure's business days after the start date:
-- SL004 5; SL005 1, or 3 when released from court after remand. Definitions: seed
-- initial_appointment_measures. Only events starting in a reported month (int_cohort_months)
-- are cases: an older event has no cohort to count in, and its window may lie outside the
-- business-day calendar.
{{ config(
    materialized="incremental",
    incremental_strategy="append",
    pre_hook="{{ delete_affected('case_id', 'int_affected_events', 'event_id') }}",
) }}
-- depends_on: {{ ref('int_affected_events') }}
with definitions as (
    select
        measure_code,
        string_split(event_types, ';') as event_types,
        business_days,
        remand_business_days
    from {{ ref('initial_appointment_measures') }}
),

cases as (
    select
        d.measure_code,
        e.event_id,
        e.region_code,
        e.start_date,
        case
            when e.release_type = 'REMAND_FROM_COURT' then d.remand_business_days
            else d.business_days
        end as allowed_business_days
    from {{ ref('stg_events') }} as e
    inner join definitions as d on list_contains(d.event_types, e.event_type)
    where e.start_date >= (select min(cm.month) from {{ ref('int_cohort_months') }} as cm)
      and {{ affected_only('e.event_id', 'int_affected_events', 'event_id') }}
),

windows as (
    select
        c.*,
        {{ add_business_days('c.start_date', 'c.allowed_business_days') }} as window_end_date
    from cases as c
)

select
    w.measure_code,
    w.event_id as case_id,
    w.region_code,
    date_trunc('month', w.start_date)::date as month,
    w.window_end_date,
    exists (  -- noqa: LT01, LT06
        select 1
        from {{ ref('int_in_person_contacts') }} as c
        where c.event_id = w.event_id
          and c.contact_date between w.start_date and w.window_end_date
    ) as in_numerator
from windows as w

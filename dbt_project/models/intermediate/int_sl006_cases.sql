-- SL006 initial sentence plan: one row per CO/SSO/LICENCE event with an ATTENDED contact (any
-- mode), by the month of its first attended contact. In the numerator when a sentence plan for
-- the event is completed within 15 business days after that first attendance. Events that
-- started before the first month of contacts loaded are left out: their first attendance may
-- lie before the data, and counting a later one as first would understate the measure.
{{ config(
    materialized="incremental",
    incremental_strategy="append",
    pre_hook="{{ delete_affected('case_id', 'int_affected_events', 'event_id') }}",
) }}
-- depends_on: {{ ref('int_affected_events') }}
with contacts_from as (
    select first_month
    from {{ ref('int_extract_coverage') }}
    where extract = 'contacts'
),

events as (
    select e.event_id, e.region_code
    from {{ ref('stg_events') }} as e
    inner join contacts_from as c on e.start_date >= c.first_month
    where e.event_type in ('CO', 'SSO', 'LICENCE')
      and {{ affected_only('e.event_id', 'int_affected_events', 'event_id') }}
),

first_attendance as (
    select c.event_id, min(c.contact_date) as first_attended_date
    from {{ ref('stg_contacts') }} as c
    inner join events using (event_id)
    where c.outcome = 'ATTENDED'
    group by c.event_id
),

windows as (
    select
        f.event_id,
        e.region_code,
        f.first_attended_date,
        {{ add_business_days('f.first_attended_date', 15) }} as window_end_date
    from first_attendance as f
    inner join events as e using (event_id)
)

select
    'SL006' as measure_code,
    w.event_id as case_id,
    w.region_code,
    date_trunc('month', w.first_attended_date)::date as month,
    w.window_end_date,
    exists (  -- noqa: LT01, LT06
        select 1
        from {{ ref('stg_sentence_plans') }} as p
        where p.event_id = w.event_id
          and p.completed_date between w.first_attended_date and w.window_end_date
    ) as in_numerator
from windows as w

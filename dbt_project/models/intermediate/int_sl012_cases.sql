-- SL012 targeted interventions for people convicted of a sexual offence: one row per event with
-- main offence SEXUAL terminated in the month. In the numerator when the event has an
-- ACCREDITED_PROGRAMME, STRUCTURED_INTERVENTION or TOOLKIT requirement terminated COMPLETED.
{{ config(
    materialized="incremental",
    incremental_strategy="append",
    pre_hook="{{ delete_affected('case_id', 'int_affected_events', 'event_id') }}",
) }}
-- depends_on: {{ ref('int_affected_events') }}
with completed_interventions as (
    select distinct event_id
    from {{ ref('stg_requirements') }}
    where requirement_type in ('ACCREDITED_PROGRAMME', 'STRUCTURED_INTERVENTION', 'TOOLKIT')
      and termination_reason = 'COMPLETED'
)

select
    'SL012' as measure_code,
    e.event_id as case_id,
    e.region_code,
    date_trunc('month', e.termination_date)::date as month,
    last_day(e.termination_date) as window_end_date,
    c.event_id is not null as in_numerator
from {{ ref('stg_events') }} as e
left join completed_interventions as c using (event_id)
where e.main_offence_category = 'SEXUAL'
  and e.termination_date is not null
  and {{ affected_only('e.event_id', 'int_affected_events', 'event_id') }}

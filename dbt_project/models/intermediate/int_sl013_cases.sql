-- SL013 requirements completed by sentence expiry: one row per CO/SSO event terminated in the
-- month having at least one ACCREDITED_PROGRAMME, RAR or UPW requirement. In the numerator when
-- every such requirement was terminated COMPLETED.
{{ config(
    materialized="incremental",
    incremental_strategy="append",
    pre_hook="{{ delete_affected('case_id', 'int_affected_events', 'event_id') }}",
) }}
-- depends_on: {{ ref('int_affected_events') }}
with qualifying_requirements as (
    select
        event_id,
        count(*) as requirements,
        count(*) filter (where termination_reason = 'COMPLETED') as completed
    from {{ ref('stg_requirements') }}
    where requirement_type in ('ACCREDITED_PROGRAMME', 'RAR', 'UPW')
    group by event_id
)

select
    'SL013' as measure_code,
    e.event_id as case_id,
    e.region_code,
    date_trunc('month', e.termination_date)::date as month,
    last_day(e.termination_date) as window_end_date,
    q.completed = q.requirements as in_numerator
from {{ ref('stg_events') }} as e
inner join qualifying_requirements as q using (event_id)
where e.event_type in ('CO', 'SSO')
  and e.termination_date is not null
  and {{ affected_only('e.event_id', 'int_affected_events', 'event_id') }}

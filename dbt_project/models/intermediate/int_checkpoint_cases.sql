-- SL015A/B, SL016, SL017A/B: circumstances at a checkpoint. One row per event of the measure's
-- event types with a check at the measure's checkpoint dated in the month (the latest such check
-- in the month where there are several). In the numerator when that check's status is one of
-- the measure's success statuses. Definitions are data: seed checkpoint_measures.
{{ config(
    materialized="incremental",
    incremental_strategy="append",
    pre_hook="{{ delete_affected('case_id', 'int_affected_events', 'event_id') }}",
) }}
-- depends_on: {{ ref('int_affected_events') }}
with definitions as (
    select
        measure_code,
        checkpoint,
        string_split(event_types, ';') as event_types,
        string_split(success_statuses, ';') as success_statuses
    from {{ ref('checkpoint_measures') }}
),

checks as (
    select check_id, event_id, checkpoint, check_date, status
    from {{ ref('stg_accommodation_checks') }}
    where {{ affected_only('event_id', 'int_affected_events', 'event_id') }}
    union all
    select check_id, event_id, checkpoint, check_date, status
    from {{ ref('stg_employment_checks') }}
    where {{ affected_only('event_id', 'int_affected_events', 'event_id') }}
),

measured as (
    select
        d.measure_code,
        c.event_id,
        e.region_code,
        date_trunc('month', c.check_date)::date as month,
        c.check_date,
        list_contains(d.success_statuses, c.status) as in_numerator
    from checks as c
    inner join definitions as d on d.checkpoint = c.checkpoint
    inner join {{ ref('stg_events') }} as e
        on e.event_id = c.event_id
        and list_contains(d.event_types, e.event_type)
    qualify row_number() over (
        partition by d.measure_code, c.event_id, date_trunc('month', c.check_date)
        order by c.check_date desc, c.check_id desc
    ) = 1
)

select
    measure_code,
    event_id as case_id,
    region_code,
    month,
    last_day(check_date) as window_end_date,
    in_numerator
from measured

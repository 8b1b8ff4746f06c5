-- Accommodation and employment checks with the breakdowns they are published by: one row per
-- event, checkpoint and month (the latest check where there are several). Person
-- characteristics come from the persons file of the check's month, else the latest known state;
-- custodial sentence length is banded by the seed custodial_length_bands (community sentences
-- have no custodial length).
{{ config(
    materialized="incremental",
    incremental_strategy="append",
    pre_hook="{{ delete_affected('event_id', 'int_affected_events', 'event_id') }}",
) }}
-- depends_on: {{ ref('int_affected_events') }}
with checks as (
    select 'ACCOMMODATION' as topic, check_id, event_id, checkpoint, check_date, status
    from {{ ref('stg_accommodation_checks') }}
    where {{ affected_only('event_id', 'int_affected_events', 'event_id') }}
    union all
    select 'EMPLOYMENT' as topic, check_id, event_id, checkpoint, check_date, status
    from {{ ref('stg_employment_checks') }}
    where {{ affected_only('event_id', 'int_affected_events', 'event_id') }}
),

latest_checks as (
    select *, date_trunc('month', check_date)::date as month
    from checks
    qualify row_number() over (
        partition by topic, event_id, checkpoint, date_trunc('month', check_date)
        order by check_date desc, check_id desc
    ) = 1
),

bands as (
    select * from {{ ref('custodial_length_bands') }}
)

select
    c.topic,
    c.checkpoint,
    c.month,
    c.check_id,
    c.event_id,
    c.status,
    e.crn,
    e.region_code,
    e.event_type,
    e.main_offence_category,
    coalesce(b.band, 'Not applicable (community sentence)') as custodial_length_band,
    coalesce(pm.sex, p.sex, 'UNKNOWN') as sex,
    coalesce(pm.age_band, p.age_band, 'UNKNOWN') as age_band,
    coalesce(pm.ethnicity, p.ethnicity, 'UNKNOWN') as ethnicity
from latest_checks as c
inner join {{ ref('stg_events') }} as e using (event_id)
left join bands as b
    on e.custodial_sentence_months >= b.min_months
    and (b.max_months_exclusive is null or e.custodial_sentence_months < b.max_months_exclusive)
left join {{ ref('stg_persons_monthly') }} as pm on pm.crn = e.crn and pm.month = c.month
left join {{ ref('stg_persons') }} as p on p.crn = e.crn

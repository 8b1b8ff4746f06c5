-- SL005 initial appointment for releases from custody: one row per LICENCE event, by the month
-- of release (start_date). In the numerator when an in-person contact is dated within 1 business
-- day after release, or 3 business days when released from court after remand.
with releases as (
    select
        event_id,
        region_code,
        start_date,
        case when release_type = 'REMAND_FROM_COURT' then 3 else 1 end as allowed_business_days
    from {{ ref('stg_events') }}
    where event_type = 'LICENCE'
),

windows as (
    select
        r.event_id,
        r.region_code,
        r.start_date,
        {{ add_business_days('r.start_date', 'r.allowed_business_days') }} as window_end_date
    from releases as r
),

in_person_contacts as (
    select event_id, contact_date
    from {{ ref('stg_contacts') }}
    where mode in ('OFFICE', 'HOME_VISIT')
)

select
    'SL005' as measure_code,
    w.event_id as case_id,
    w.region_code,
    date_trunc('month', w.start_date)::date as month,
    w.window_end_date,
    exists (
        select 1
        from in_person_contacts as c
        where c.event_id = w.event_id
          and c.contact_date between w.start_date and w.window_end_date
    ) as in_numerator
from windows as w

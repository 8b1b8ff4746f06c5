-- SL004 initial appointment for community sentences: one row per CO/SSO event, by the month of
-- its start (sentence) date. In the numerator when an in-person contact (OFFICE or HOME_VISIT,
-- whatever its outcome) is dated within 5 business days after the start date.
with community_sentences as (
    select event_id, region_code, start_date
    from {{ ref('stg_events') }}
    where event_type in ('CO', 'SSO')
),

windows as (
    select
        e.event_id,
        e.region_code,
        e.start_date,
        {{ add_business_days('e.start_date', 5) }} as window_end_date
    from community_sentences as e
),

in_person_contacts as (
    select event_id, contact_date
    from {{ ref('stg_contacts') }}
    where mode in ('OFFICE', 'HOME_VISIT')
)

select
    'SL004' as measure_code,
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

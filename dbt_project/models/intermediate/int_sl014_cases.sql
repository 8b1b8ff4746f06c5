-- SL014 housed on release: one row per LICENCE event, by the month of release. In the numerator
-- when the event's RELEASE_NIGHT accommodation check found SETTLED or TEMPORARY accommodation;
-- a release with no such check counts as not housed. Where a release has several release-night
-- checks, the latest (by check date, then check id) is its status.
with releases as (
    select event_id, region_code, start_date
    from {{ ref('stg_events') }}
    where event_type = 'LICENCE'
),

release_night_checks as (
    select event_id, status
    from {{ ref('stg_accommodation_checks') }}
    where checkpoint = 'RELEASE_NIGHT'
    qualify row_number() over (partition by event_id order by check_date desc, check_id desc) = 1
)

select
    'SL014' as measure_code,
    r.event_id as case_id,
    r.region_code,
    date_trunc('month', r.start_date)::date as month,
    r.start_date as window_end_date,
    coalesce(c.status in ('SETTLED', 'TEMPORARY'), false) as in_numerator
from releases as r
left join release_night_checks as c on c.event_id = r.event_id

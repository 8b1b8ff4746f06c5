-- SL014 housed on release: one row per LICENCE event, by the month of release. In the numerator
-- when the event's RELEASE_NIGHT accommodation check, dated on the release date or the day after,
-- found SETTLED or TEMPORARY accommodation; a release with no such check counts as not housed.
-- Where a release has several such checks, the latest (by check date, then check id) is its status.
-- The window closes the day after release (docs/methodology.md#measures), so a check dated then can
-- still arrive in the next month's delivery.
{{ config(
    materialized="incremental",
    incremental_strategy="append",
    pre_hook="{{ delete_affected('case_id', 'int_affected_events', 'event_id') }}",
) }}
-- depends_on: {{ ref('int_affected_events') }}
with releases as (
    select event_id, region_code, start_date
    from {{ ref('stg_events') }}
    where event_type = 'LICENCE'
      and {{ affected_only('event_id', 'int_affected_events', 'event_id') }}
),

release_night_checks as (
    select r.event_id, c.status
    from releases as r
    inner join {{ ref('stg_accommodation_checks') }} as c
        on c.event_id = r.event_id
        and c.checkpoint = 'RELEASE_NIGHT'
        and c.check_date between r.start_date and (r.start_date + interval 1 day)::date
    qualify row_number() over (
        partition by r.event_id order by c.check_date desc, c.check_id desc
    ) = 1
)

select
    'SL014' as measure_code,
    r.event_id as case_id,
    r.region_code,
    date_trunc('month', r.start_date)::date as month,
    (r.start_date + interval 1 day)::date as window_end_date,
    coalesce(c.status in ('SETTLED', 'TEMPORARY'), false) as in_numerator
from releases as r
left join release_night_checks as c on c.event_id = r.event_id

-- The events whose cases an incremental refresh recomputes
-- (docs/methodology.md#incremental-refresh): an event that changed, or whose contacts, sentence
-- plans, requirements or checks changed (the event-based measures SL004, SL005, SL006, SL012,
-- SL013, SL014, the checkpoint measures and the circumstance checks), or whose person's
-- characteristics changed (the circumstance checks: the latest state, and the month's own persons
-- file for the months of the event's checks). Empty in a full build.
with checks as (
    select event_id, check_date from {{ ref('stg_accommodation_checks') }}
    union all
    select event_id, check_date from {{ ref('stg_employment_checks') }}
)

select event_id from {{ ref('int_events_changes') }}
union
select event_id from {{ ref('int_contacts_changes') }}
union
select event_id from {{ ref('int_sentence_plans_changes') }}
union
select event_id from {{ ref('int_requirements_changes') }}
union
select event_id from {{ ref('int_accommodation_checks_changes') }}
union
select event_id from {{ ref('int_employment_checks_changes') }}
union
select e.event_id
from {{ ref('stg_events') }} as e
inner join {{ ref('int_persons_changes') }} as p on p.crn = e.crn
union
select c.event_id
from {{ ref('int_persons_monthly_changes') }} as p
inner join {{ ref('stg_events') }} as e on e.crn = p.crn
inner join checks as c
    on c.event_id = e.event_id
    and c.check_date >= p.month
    and c.check_date < p.month + interval 1 month

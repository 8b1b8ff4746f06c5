-- The person-months whose cases an incremental refresh recomputes (SL007, SL040;
-- docs/methodology.md#incremental-refresh): every month of a person with an event that changed
-- (month null); the month of a changed contact, or of a changed entry in the month's persons file;
-- and every person in a month newly reported (crn null). Empty in a full build.
-- depends_on: {{ ref('int_cohort_months') }}
select crn, null::date as month from {{ ref('int_events_changes') }}
union
select crn, date_trunc('month', contact_date)::date as month
from {{ ref('int_contacts_changes') }}
union
select crn, month from {{ ref('int_persons_monthly_changes') }}
{%- if changes_wanted() %}
union
select null::varchar as crn, month
from (
    select month from {{ ref('int_cohort_months') }}
    except
    select month from {{ previous('int_cohort_months') }}
)
{%- endif %}

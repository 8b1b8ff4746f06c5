-- Contacts arranged in person (OFFICE or HOME_VISIT), whatever their outcome: the contacts the
-- initial-appointment measures (SL004, SL005) and monthly appointments (SL007) count.
{{ config(materialized="view") }}
select contact_id, event_id, crn, region_code, contact_date
from {{ ref('stg_contacts') }}
where mode in ('OFFICE', 'HOME_VISIT')

-- Latest state of each events record (key: event_id) across every monthly delivery loaded
-- (docs/methodology.md#landing-contract: the newest month holding a key gives its latest state, so
-- a termination recorded late and backdated takes effect). vanished_after_month is set for an event
-- that is not terminated in the newest file holding it and is absent from a later file: it
-- vanished, a data defect (quality rule vanished_records). Measures treat it as active no later
-- than that month, so a vanished event cannot stay active for ever; null for every other event.
{{ config(
    materialized="incremental",
    incremental_strategy="append",
    pre_hook="{{ delete_changed_keys('events', 'event_id', 'stg_events', vanished=true) }}",
) }}
with latest as (
    {{ latest_per_key('events', 'event_id', 'stg_events', vanished=true) }}
),

newest_file as (
    select max(_month) as newest_month
    from {{ source('raw', 'events') }}
)

select
    latest.*,
    case
        when latest.termination_date is null and latest._month < newest_file.newest_month
            then strptime(latest._month || '-01', '%Y-%m-%d')::date
    end as vanished_after_month
from latest
cross join newest_file

-- Latest state of each persons record (key: crn) across every monthly delivery loaded.
{{ config(
    materialized="incremental",
    incremental_strategy="append",
    pre_hook="{{ delete_changed_keys('persons', 'crn', 'stg_persons') }}",
) }}
{{ latest_per_key('persons', 'crn', 'stg_persons') }}

-- Latest state of each accommodation_checks record (key: check_id) across every monthly delivery
-- loaded.
{{ config(
    materialized="incremental",
    incremental_strategy="append",
    pre_hook="{{ delete_changed_keys('accommodation_checks', 'check_id', 'stg_accommodation_checks') }}",
) }}
{{ latest_per_key('accommodation_checks', 'check_id', 'stg_accommodation_checks') }}

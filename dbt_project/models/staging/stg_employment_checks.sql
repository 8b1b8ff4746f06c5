-- Latest state of each employment_checks record (key: check_id) across every monthly delivery
-- loaded.
{{ config(
    materialized="incremental",
    incremental_strategy="append",
    pre_hook="{{ delete_changed_keys('employment_checks', 'check_id', 'stg_employment_checks') }}",
) }}
{{ latest_per_key('employment_checks', 'check_id', 'stg_employment_checks') }}

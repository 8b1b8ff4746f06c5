-- Latest state of each contacts record (key: contact_id) across every monthly delivery loaded.
{{ config(
    materialized="incremental",
    incremental_strategy="append",
    pre_hook="{{ delete_changed_keys('contacts', 'contact_id', 'stg_contacts') }}",
) }}
{{ latest_per_key('contacts', 'contact_id', 'stg_contacts') }}

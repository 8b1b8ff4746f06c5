-- Latest state of each upw_sessions record (key: session_id) across every monthly delivery loaded.
{{ config(
    materialized="incremental",
    incremental_strategy="append",
    pre_hook="{{ delete_changed_keys('upw_sessions', 'session_id', 'stg_upw_sessions') }}",
) }}
{{ latest_per_key('upw_sessions', 'session_id', 'stg_upw_sessions') }}

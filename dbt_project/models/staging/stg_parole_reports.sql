-- Latest state of each parole_reports record (key: report_id) across every monthly delivery loaded.
{{ config(
    materialized="incremental",
    incremental_strategy="append",
    pre_hook="{{ delete_changed_keys('parole_reports', 'report_id', 'stg_parole_reports') }}",
) }}
{{ latest_per_key('parole_reports', 'report_id', 'stg_parole_reports') }}

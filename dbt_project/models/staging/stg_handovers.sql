-- Latest state of each handovers record (key: handover_id) across every monthly delivery loaded.
{{ config(
    materialized="incremental",
    incremental_strategy="append",
    pre_hook="{{ delete_changed_keys('handovers', 'handover_id', 'stg_handovers') }}",
) }}
{{ latest_per_key('handovers', 'handover_id', 'stg_handovers') }}

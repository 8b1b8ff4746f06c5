-- Latest state of each recalls record (key: recall_id) across every monthly delivery loaded.
{{ config(
    materialized="incremental",
    incremental_strategy="append",
    pre_hook="{{ delete_changed_keys('recalls', 'recall_id', 'stg_recalls') }}",
) }}
{{ latest_per_key('recalls', 'recall_id', 'stg_recalls') }}

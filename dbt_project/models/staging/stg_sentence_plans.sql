-- Latest state of each sentence_plans record (key: plan_id) across every monthly delivery loaded.
{{ config(
    materialized="incremental",
    incremental_strategy="append",
    pre_hook="{{ delete_changed_keys('sentence_plans', 'plan_id', 'stg_sentence_plans') }}",
) }}
{{ latest_per_key('sentence_plans', 'plan_id', 'stg_sentence_plans') }}

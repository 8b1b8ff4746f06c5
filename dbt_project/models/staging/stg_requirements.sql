-- Latest state of each requirements record (key: requirement_id) across every monthly delivery
-- loaded.
{{ config(
    materialized="incremental",
    incremental_strategy="append",
    pre_hook="{{ delete_changed_keys('requirements', 'requirement_id', 'stg_requirements') }}",
) }}
{{ latest_per_key('requirements', 'requirement_id', 'stg_requirements') }}

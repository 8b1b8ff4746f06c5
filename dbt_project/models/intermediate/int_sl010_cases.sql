-- SL010 timely risk management plans: one row per recall, by the month of return to custody.
-- In the numerator when Part B was supplied on or before its due date.
{{ config(
    materialized="incremental",
    incremental_strategy="append",
    pre_hook="{{ delete_affected('case_id', 'int_recalls_changes', 'recall_id') }}",
) }}
-- depends_on: {{ ref('int_recalls_changes') }}
select
    'SL010' as measure_code,
    recall_id as case_id,
    region_code,
    date_trunc('month', return_to_custody_date)::date as month,
    part_b_due_date as window_end_date,
    coalesce(part_b_supplied_date <= part_b_due_date, false) as in_numerator
from {{ ref('stg_recalls') }}
where {{ affected_only('recall_id', 'int_recalls_changes', 'recall_id') }}

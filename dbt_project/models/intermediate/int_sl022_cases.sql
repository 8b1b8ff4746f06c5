-- SL022 community offender manager handover: one row per handover allocated in the month with
-- more than 10 months to serve. In the numerator when the handover meeting took place within
-- 28 days after allocation.
{{ config(
    materialized="incremental",
    incremental_strategy="append",
    pre_hook="{{ delete_affected('case_id', 'int_handovers_changes', 'handover_id') }}",
) }}
-- depends_on: {{ ref('int_handovers_changes') }}
select
    'SL022' as measure_code,
    handover_id as case_id,
    region_code,
    date_trunc('month', com_allocated_date)::date as month,
    (com_allocated_date + interval 28 day)::date as window_end_date,
    coalesce(
        meeting_date between com_allocated_date and (com_allocated_date + interval 28 day)::date,
        false
    ) as in_numerator
from {{ ref('stg_handovers') }}
where months_to_serve > 10
  and {{ affected_only('handover_id', 'int_handovers_changes', 'handover_id') }}

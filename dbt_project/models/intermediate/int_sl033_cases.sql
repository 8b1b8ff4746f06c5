-- SL033 accredited programme completions: one row per ACCREDITED_PROGRAMME requirement
-- terminated in the month. In the numerator when it terminated COMPLETED.
{{ config(
    materialized="incremental",
    incremental_strategy="append",
    pre_hook="{{ delete_affected('case_id', 'int_affected_requirements', 'requirement_id') }}",
) }}
-- depends_on: {{ ref('int_affected_requirements') }}
select
    'SL033' as measure_code,
    requirement_id as case_id,
    region_code,
    date_trunc('month', termination_date)::date as month,
    last_day(termination_date) as window_end_date,
    termination_reason = 'COMPLETED' as in_numerator
from {{ ref('stg_requirements') }}
where requirement_type = 'ACCREDITED_PROGRAMME'
  and termination_date is not null
  and {{ affected_only('requirement_id', 'int_affected_requirements', 'requirement_id') }}

-- SL029 unpaid work completed within 12 months: one row per UPW requirement terminated in the
-- month. In the numerator when it terminated COMPLETED no later than 12 calendar months after
-- its sentence date.
{{ config(
    materialized="incremental",
    incremental_strategy="append",
    pre_hook="{{ delete_affected('case_id', 'int_affected_requirements', 'requirement_id') }}",
) }}
-- depends_on: {{ ref('int_affected_requirements') }}
select
    'SL029' as measure_code,
    requirement_id as case_id,
    region_code,
    date_trunc('month', termination_date)::date as month,
    last_day(termination_date) as window_end_date,
    termination_reason = 'COMPLETED'
        and termination_date <= (sentence_date + interval 12 month)::date as in_numerator
from {{ ref('stg_requirements') }}
where requirement_type = 'UPW'
  and termination_date is not null
  and {{ affected_only('requirement_id', 'int_affected_requirements', 'requirement_id') }}

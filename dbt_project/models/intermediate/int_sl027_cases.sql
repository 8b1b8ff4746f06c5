-- SL027 unpaid work starts: one row per UPW requirement, by the month of its sentence date. In
-- the numerator when the requirement's earliest UPW session (any status) is within 15 business
-- days after the sentence date. Only requirements sentenced in a reported month
-- (int_cohort_months) are cases.
{{ config(
    materialized="incremental",
    incremental_strategy="append",
    pre_hook="{{ delete_affected('case_id', 'int_affected_requirements', 'requirement_id') }}",
) }}
-- depends_on: {{ ref('int_affected_requirements') }}
with requirements as (
    select requirement_id, region_code, sentence_date
    from {{ ref('stg_requirements') }}
    where requirement_type = 'UPW'
      and sentence_date >= (select min(cm.month) from {{ ref('int_cohort_months') }} as cm)
      and {{ affected_only('requirement_id', 'int_affected_requirements', 'requirement_id') }}
),

first_sessions as (
    select requirement_id, min(session_date) as first_session_date
    from {{ ref('stg_upw_sessions') }}
    group by requirement_id
),

windows as (
    select
        r.requirement_id,
        r.region_code,
        r.sentence_date,
        f.first_session_date,
        {{ add_business_days('r.sentence_date', 15) }} as window_end_date
    from requirements as r
    left join first_sessions as f using (requirement_id)
)

select
    'SL027' as measure_code,
    requirement_id as case_id,
    region_code,
    date_trunc('month', sentence_date)::date as month,
    window_end_date,
    coalesce(first_session_date between sentence_date and window_end_date, false) as in_numerator
from windows

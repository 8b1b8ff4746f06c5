-- SL028 unpaid work stand downs (lower is better): one row per UPW session dated in the month.
-- In the numerator when the session was STOOD_DOWN.
{{ config(
    materialized="incremental",
    incremental_strategy="append",
    pre_hook="{{ delete_affected('case_id', 'int_upw_sessions_changes', 'session_id') }}",
) }}
-- depends_on: {{ ref('int_upw_sessions_changes') }}
select
    'SL028' as measure_code,
    session_id as case_id,
    region_code,
    date_trunc('month', session_date)::date as month,
    last_day(session_date) as window_end_date,
    status = 'STOOD_DOWN' as in_numerator
from {{ ref('stg_upw_sessions') }}
where {{ affected_only('session_id', 'int_upw_sessions_changes', 'session_id') }}

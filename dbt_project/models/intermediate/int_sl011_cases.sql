-- SL011 timely parole reports: one row per parole report, by the month it was due. In the
-- numerator when it was sent on or before its due date.
{{ config(
    materialized="incremental",
    incremental_strategy="append",
    pre_hook="{{ delete_affected('case_id', 'int_parole_reports_changes', 'report_id') }}",
) }}
-- depends_on: {{ ref('int_parole_reports_changes') }}
select
    'SL011' as measure_code,
    report_id as case_id,
    region_code,
    date_trunc('month', due_date)::date as month,
    due_date as window_end_date,
    coalesce(sent_date <= due_date, false) as in_numerator
from {{ ref('stg_parole_reports') }}
where {{ affected_only('report_id', 'int_parole_reports_changes', 'report_id') }}

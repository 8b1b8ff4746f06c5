{#- The people under supervision in each month: one row per person (crn) and month, with the
    region of their latest-starting such event (ties: the highest event_id).
    over='whole_month': events that started before the month and were not terminated before
    its last day (supervised for the whole month; SL007). over='any_day': events active on any
    day of the month (SL040). An event that vanished from the deliveries (stg_events) counts
    until the last month whose file held it. In an incremental refresh, only the person-months
    it affects (person_month_scope); otherwise every cohort month. -#}
{% macro person_months(over) -%}
{%- if over not in ('whole_month', 'any_day') -%}
    {{ exceptions.raise_compiler_error("person_months: over must be whole_month or any_day") }}
{%- endif -%}
with events_in_month as (
    select e.crn, e.region_code, e.start_date, e.event_id, m.month
    from {{ ref('stg_events') }} as e
    {%- if incremental_refresh() %}
    inner join ({{ person_month_scope() }}) as m
        on m.crn = e.crn
        and {% else %}
    inner join {{ ref('int_cohort_months') }} as m
        on {% endif -%}
    {%- if over == 'whole_month' %}
e.start_date < m.month
        and (e.termination_date is null or e.termination_date >= last_day(m.month))
    {%- else %}
e.start_date <= last_day(m.month)
        and (e.termination_date is null or e.termination_date >= m.month)
    {%- endif %}
        and (e.vanished_after_month is null or m.month <= e.vanished_after_month)
)

select crn, month, region_code
from events_in_month
qualify row_number() over (partition by crn, month order by start_date desc, event_id desc) = 1
{%- endmacro %}

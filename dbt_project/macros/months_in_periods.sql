{#- Each row of a monthly relation three times: in its month, its calendar quarter and its
    performance year (April to March), with period_type, period (2024-01, "2024 Q1", 2024-25),
    period_start and months_in_period (1, 3, 12). Calendar quarters never straddle two
    performance years. -#}
{% macro months_in_periods(relation, month='month') -%}
select *, 'MONTH' as period_type, strftime({{ month }}, '%Y-%m') as period,
    {{ month }} as period_start, 1 as months_in_period
from {{ relation }}
union all
select *, 'QUARTER' as period_type,
    {{ quarter_label(month) }} as period,
    date_trunc('quarter', {{ month }})::date as period_start, 3 as months_in_period
from {{ relation }}
union all
select *, 'PERFORMANCE_YEAR' as period_type, {{ performance_year(month) }} as period,
    make_date(year({{ month }}) - case when month({{ month }}) < 4 then 1 else 0 end, 4, 1)
        as period_start,
    12 as months_in_period
from {{ relation }}
{%- endmacro %}

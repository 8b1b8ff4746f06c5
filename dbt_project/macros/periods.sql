{#- The labels of the publication's periods, in one place for SQL; their Python twins are
    schemas/periods.py, and tests/test_periods_seam.py checks the two agree. -#}

{#- The performance year (April to March) a date falls in, labelled like 2021-22. -#}
{% macro performance_year(date_expr) -%}
(
    (year({{ date_expr }}) - case when month({{ date_expr }}) < 4 then 1 else 0 end)::varchar
    || '-'
    || right(
        (year({{ date_expr }}) - case when month({{ date_expr }}) < 4 then 1 else 0 end + 1)::varchar,
        2
    )
)
{%- endmacro %}

{#- The calendar quarter a date falls in, labelled like "2024 Q2". -#}
{% macro quarter_label(date_expr) -%}
(strftime({{ date_expr }}, '%Y') || ' Q' || quarter({{ date_expr }})::varchar)
{%- endmacro %}

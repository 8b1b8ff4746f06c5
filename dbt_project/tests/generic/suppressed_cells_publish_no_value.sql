{#- The publication gate's first rule as a dbt test: fails for every cell whose quality status
    is SUPPRESS but which would publish a count or a rate, or whose status is not suppressed. -#}
{% test suppressed_cells_publish_no_value(model) %}
select *
from {{ model }}
where quality_status = 'SUPPRESS'
    and (counts_published or value_published or cell_status <> 'suppressed' or shorthand <> '[x]')
{% endtest %}

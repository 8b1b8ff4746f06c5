{#- The one precedence of quality statuses (docs/methodology.md#quality-periods-and-the-publication-gate): SUPPRESS > WARN > CAVEAT > OK. Where
    several statuses apply to a cell, the strictest wins. quality_severity turns a status into
    its rank (4 to 1), quality_status_of turns the highest rank back into the status. -#}
{% macro quality_severity(status) -%}
case {{ status }} when 'SUPPRESS' then 4 when 'WARN' then 3 when 'CAVEAT' then 2 else 1 end
{%- endmacro %}

{% macro quality_status_of(severity) -%}
case {{ severity }} when 4 then 'SUPPRESS' when 3 then 'WARN' when 2 then 'CAVEAT' else 'OK' end
{%- endmacro %}

{#- Aggregate: the distinct note keys (comma-separated lists) of the rows grouped, sorted,
    as one comma-separated list. -#}
{% macro union_note_keys(column) -%}
array_to_string(list_sort(list_distinct(list_filter(
    flatten(list(string_split(coalesce({{ column }}, ''), ','))), lambda k: k <> ''
))), ',')
{%- endmacro %}

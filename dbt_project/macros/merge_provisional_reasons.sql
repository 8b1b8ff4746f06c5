{#- merge_provisional_reasons(column): aggregate the '; '-separated provisional_reason of the
    rows grouped into one '; '-separated list, each extract-month once, sorted; null when none
    of the rows is held. -#}
{% macro merge_provisional_reasons(column) -%}
nullif(
    array_to_string(list_sort(list_distinct(string_split(string_agg({{ column }}, '; '), '; '))), '; '),
    ''
)
{%- endmacro %}

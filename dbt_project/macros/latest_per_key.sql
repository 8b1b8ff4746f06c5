{#- Latest state of each key across monthly deliveries: the newest month holding the key wins,
    then the highest revision, then the last line of the file. -#}
{% macro latest_per_key(extract, key) -%}
select *
from {{ source('raw', extract) }}
qualify row_number() over (
    partition by {{ key }}
    order by _month desc, _source_revision desc, _source_line desc
) = 1
{%- endmacro %}

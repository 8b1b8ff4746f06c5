{#- Latest state of each key across monthly deliveries: the newest month holding the key wins,
    then the highest revision, then the last line of the file. In an incremental refresh only
    the keys a changed delivery can affect are recomputed (changed_keys, DESIGN §11); the
    model's pre-hook (delete_changed_keys) has deleted their old state. -#}
{% macro latest_per_key(extract, key, model=none, vanished=false) -%}
{%- if model %}
-- depends_on: {{ ref('stg_loads') }}
{%- endif %}
select *
from {{ source('raw', extract) }}
{%- if model and incremental_refresh() %}
where {{ key }} in ({{ changed_keys(extract, key, model, vanished) }})
{%- endif %}
qualify row_number() over (
    partition by {{ key }}
    order by _month desc, _source_revision desc, _source_line desc
) = 1
{%- endmacro %}

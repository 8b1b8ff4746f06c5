{#- Latest state of each key across monthly deliveries: the newest month holding the key wins,
    then the highest revision, then the last line of the file.

    In an incremental refresh (docs/methodology.md#incremental-refresh) only the keys a changed delivery can affect are
    recomputed (changed_keys); the model's pre-hook (delete_changed_keys) has deleted their
    old state. A months' files that did not change are what they were at the last refresh, so
    a key's latest state is the best of: its rows in the changed months' files, and its state
    after the last refresh when that came from a month that did not change. Only a key whose
    state came from a changed month (the revision replaced) has its rows in the other months
    looked up again; the months holding any are found first, reading the key columns only. -#}
{% macro latest_per_key(extract, key, model=none, vanished=false) -%}
{%- if model %}
-- depends_on: {{ ref('stg_loads') }}
{%- endif %}
{%- if model and incremental_refresh() %}
{%- set derived = 'exclude (vanished_after_month)' if vanished else '' %}
{%- set lookup_sql %}
    select distinct _month from {{ source('raw', extract) }}
    where _month not in ({{ changed_months(extract) }})
      and {{ key }} in (
          select {{ key }} from {{ previous(model) }}
          where _month in ({{ changed_months(extract) }})
      )
    order by _month
{%- endset %}
{%- set lookup_months = run_query(lookup_sql).columns[0].values() if execute else [] %}
with prior as (
    select * {{ derived }}
    from {{ previous(model) }}
    where {{ key }} in ({{ changed_keys(extract, key, model, vanished) }})
),

candidates as (
    select * from {{ source('raw', extract) }}
    where _month in ({{ changed_months(extract) }})
    union all by name
    select * from prior
    where _month not in ({{ changed_months(extract) }})
    {%- if lookup_months | length > 0 %}
    union all by name
    select * from {{ source('raw', extract) }}
    where _month in ('{{ lookup_months | join("', '") }}')
      and {{ key }} in (
          select {{ key }} from prior where _month in ({{ changed_months(extract) }})
      )
    {%- endif %}
)

select * from candidates
{%- else %}
select * from {{ source('raw', extract) }}
{%- endif %}
qualify row_number() over (
    partition by {{ key }}
    order by _month desc, _source_revision desc, _source_line desc
) = 1
{%- endmacro %}

-- Persons as described in each month's persons file (characteristics can be recorded later, so
-- SL040 reads the month's own file, not the latest state). One row per person and month. An
-- incremental refresh replaces the months whose persons file changed
-- (docs/methodology.md#incremental-refresh).
{{ config(
    materialized="incremental",
    incremental_strategy="append",
    pre_hook="{% if incremental_refresh() %}delete from {{ this }}
        where _month in ({{ changed_months('persons') }}){% endif %}",
) }}
-- depends_on: {{ ref('stg_loads') }}
select
    *,
    strptime(_month || '-01', '%Y-%m-%d')::date as month
from {{ source('raw', 'persons') }}
{%- if incremental_refresh() %}
where _month in ({{ changed_months('persons') }})
{%- endif %}
qualify row_number() over (
    partition by crn, _month order by _source_revision desc, _source_line desc
) = 1

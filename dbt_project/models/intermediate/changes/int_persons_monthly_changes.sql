-- The persons records of the months whose persons file this refresh changed: 'added' rows as now
-- delivered, 'removed' rows as after the last refresh (docs/methodology.md#incremental-refresh).
-- Empty in a full build.
{%- set columns =
    'crn, month, sex, age_band, ethnicity, religion, disability, sexual_orientation' %}
-- depends_on: {{ ref('stg_loads') }}
{% if changes_wanted() %}
with now as (
    select {{ columns }} from {{ ref('stg_persons_monthly') }}
    where _month in ({{ changed_months('persons') }})
),

before as (
    select {{ columns }} from {{ previous('stg_persons_monthly') }}
    where _month in ({{ changed_months('persons') }})
)

select 'added' as change, * from (select * from now except all select * from before)
union all
select 'removed' as change, * from (select * from before except all select * from now)
{% else %}
select 'added' as change, {{ columns }} from {{ ref('stg_persons_monthly') }} where false
{% endif %}

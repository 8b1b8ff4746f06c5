{{ config(materialized="table") }}
-- Targets as supplied: the illustrative seed `targets`, or the published file named by the dbt
-- variable `targets_file` (set from PROBATION_TARGETS_FILE after the file has passed its
-- contract, schemas/configuration.py). Typed; an empty tolerance is the default 3 points.
-- depends_on: {{ ref('targets') }}
{% set targets_file = var('targets_file', '') %}
with supplied as (
    {% if targets_file %}
    select * from read_csv('{{ targets_file | replace("'", "''") }}', header = true, all_varchar = true)
    {% else %}
    select * from {{ ref('targets') }}
    {% endif %}
)

select
    trim(measure_code::varchar) as measure_code,
    trim(performance_year::varchar) as performance_year,
    trim(geography_code::varchar) as geography_code,
    trim(target_type::varchar) as target_type,
    trim(target::varchar)::double as target,
    coalesce(nullif(trim(near_miss_tolerance::varchar), ''), '0.03')::double as near_miss_tolerance,
    trim(source::varchar) as source
from supplied

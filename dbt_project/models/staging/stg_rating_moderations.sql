{{ config(materialized="table") }}
-- Moderated regional ratings in force: the seed `rating_moderations`, or the file named by the
-- dbt variable `moderations_file` (set from PROBATION_MODERATIONS_FILE after the file has
-- passed its contract, schemas/configuration.py). One row per region and performance year.
-- depends_on: {{ ref('rating_moderations') }}
{% set moderations_file = var('moderations_file', '') %}
with supplied as (
    {% if moderations_file %}
    select * from read_csv('{{ moderations_file | replace("'", "''") }}', header = true, all_varchar = true)
    {% else %}
    select * from {{ ref('rating_moderations') }}
    {% endif %}
)

select
    trim(region_code::varchar) as region_code,
    trim(performance_year::varchar) as performance_year,
    trim(moderated_rating::varchar)::integer as moderated_rating,
    trim(reason::varchar) as reason,
    trim(decided_by::varchar) as decided_by,
    trim(decided_on::varchar)::date as decided_on
from supplied

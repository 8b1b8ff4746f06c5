-- Every case-level measure in one shape: one row per case per measure, with the cohort month,
-- the date its measurement window closes and whether it counts in the numerator.
{% set case_models = ['int_sl004_cases', 'int_sl005_cases', 'int_sl014_cases'] %}
{% for model in case_models %}
select measure_code, case_id, region_code, month, window_end_date, in_numerator
from {{ ref(model) }}
{% if not loop.last %}union all{% endif %}
{% endfor %}

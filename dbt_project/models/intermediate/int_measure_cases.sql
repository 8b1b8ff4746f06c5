-- Every case-level measure in one shape: one row per case per measure, with the cohort month,
-- the date its measurement window closes and whether it counts in the numerator.
{{ config(materialized="view") }}
{% set case_models = [
    'int_initial_appointment_cases', 'int_sl006_cases', 'int_sl007_cases',
    'int_sl010_cases', 'int_sl011_cases', 'int_sl012_cases', 'int_sl013_cases',
    'int_sl014_cases', 'int_checkpoint_cases', 'int_sl022_cases', 'int_sl027_cases',
    'int_sl028_cases', 'int_sl029_cases', 'int_sl033_cases', 'int_sl040_cases',
] %}
{% for model in case_models %}
select measure_code, case_id, region_code, month, window_end_date, in_numerator
from {{ ref(model) }}
{% if not loop.last %}union all{% endif %}
{% endfor %}

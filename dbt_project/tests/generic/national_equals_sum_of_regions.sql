{#- Fails where the England and Wales row does not equal the sum of the regional rows. -#}
{% test national_equals_sum_of_regions(model, period_column) %}
with regions as (
    select measure_code, {{ period_column }} as period,
        sum(numerator) as numerator, sum(denominator) as denominator
    from {{ model }}
    where geography_level = 'REGION'
    group by all
),
national as (
    select measure_code, {{ period_column }} as period, numerator, denominator
    from {{ model }}
    where geography_level = 'NATIONAL'
)
select n.*, r.numerator as regional_numerator, r.denominator as regional_denominator
from national as n
full outer join regions as r using (measure_code, period)
where n.numerator is distinct from r.numerator or n.denominator is distinct from r.denominator
{% endtest %}

{#- Disclosure control: fails for every equation (a group's row, or a breakdown's column with
    its England and Wales count) that holds exactly one confidential cell, as that cell could be
    worked out from the others. -#}
{% test no_recoverable_confidential_cell(model) %}
with cells as (
    select * from {{ model }}
),

equations as (
    select topic, checkpoint, period_type, period, 'row' as kind, breakdown,
        breakdown_value as member, confidential
    from cells
    union all
    select c.topic, c.checkpoint, c.period_type, c.period, 'column' as kind, b.breakdown,
        c.category as member, c.confidential
    from cells as c
    inner join (select distinct topic, breakdown from cells where breakdown <> 'NATIONAL') as b
        on b.topic = c.topic and c.breakdown in (b.breakdown, 'NATIONAL')
)

select topic, checkpoint, period_type, period, kind, breakdown, member,
    count(*) filter (where confidential) as confidential_cells
from equations
group by all
having count(*) filter (where confidential) = 1
{% endtest %}

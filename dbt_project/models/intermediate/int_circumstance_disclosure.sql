-- Disclosure control of the circumstances tables (docs/methodology.md#publication): which counts
-- are confidential [c].
--
-- A table is one topic, checkpoint and period. Its cells are people by category (each status
-- and TOTAL) for England and Wales and for every value of every breakdown. They are tied by
-- equations a reader could use to work a hidden count out:
-- - a row: a group's statuses add up to its TOTAL (England and Wales too);
-- - a column: for each breakdown, a category's counts over the breakdown's values add up to the
--   England and Wales count of that category.
-- Primary suppression: a count of at least 1 and fewer than var('disclosure_threshold') people
-- (default 5) is confidential. Secondary suppression: wherever an equation holds exactly one
-- confidential cell, that cell could be worked out from the others, so the smallest other cell
-- of the equation (non-zero counts first, as a zero is often known to be zero) is made
-- confidential too. This is repeated var('disclosure_passes') times; the generic test
-- no_recoverable_confidential_cell on this model fails the build if any equation still holds
-- exactly one confidential cell.
{% set threshold = var("disclosure_threshold") %}
{% set passes = var("disclosure_passes") %}

with cells as (
    select
        topic || '|' || checkpoint || '|' || period_type || '|' || period || '|' || breakdown
            || '|' || breakdown_value || '|' || category as cell_id,
        *
    from {{ ref('int_circumstance_periods') }}
),

equations as (
    -- rows: the statuses and TOTAL of one group
    select
        topic || '|' || checkpoint || '|' || period_type || '|' || period || '|row|' || breakdown
            || '|' || breakdown_value as equation_id,
        cell_id
    from cells
    union all
    -- columns: one category over a breakdown's values, with the England and Wales count
    select
        b.topic || '|' || b.checkpoint || '|' || b.period_type || '|' || b.period || '|column|'
            || b.breakdown || '|' || b.category as equation_id,
        c.cell_id
    from (
        select distinct topic, checkpoint, period_type, period, breakdown, category
        from cells
        where breakdown <> 'NATIONAL'
    ) as b
    inner join cells as c
        on c.topic = b.topic
        and c.checkpoint = b.checkpoint
        and c.period_type = b.period_type
        and c.period = b.period
        and c.category = b.category
        and c.breakdown in (b.breakdown, 'NATIONAL')
),

pass_0 as materialized (
    select
        cell_id,
        people,
        people >= 1 and people < {{ threshold }} as confidential,
        people >= 1 and people < {{ threshold }} as primary_suppression
    from cells
),

{% for i in range(passes) %}
singles_{{ i }} as (
    -- equations with exactly one confidential cell after the previous pass
    select e.equation_id
    from equations as e
    inner join pass_{{ i }} as p using (cell_id)
    group by e.equation_id
    having count(*) filter (where p.confidential) = 1
),

complements_{{ i }} as (
    select e.equation_id, e.cell_id
    from equations as e
    inner join singles_{{ i }} using (equation_id)
    inner join pass_{{ i }} as p using (cell_id)
    where not p.confidential
    qualify row_number() over (
        partition by e.equation_id order by p.people = 0, p.people, p.cell_id
    ) = 1
),

pass_{{ i + 1 }} as materialized (
    select
        p.cell_id,
        p.people,
        p.confidential
            or p.cell_id in (select c.cell_id from complements_{{ i }} as c) as confidential,
        p.primary_suppression
    from pass_{{ i }} as p
),
{% endfor %}

final as (
    select * from pass_{{ passes }}
)

select
    c.topic,
    c.checkpoint,
    c.period_type,
    c.period,
    c.period_start,
    c.period_end,
    c.breakdown,
    c.breakdown_value,
    c.category,
    c.months_in_period,
    c.months_loaded,
    c.people,
    t.people as group_total,
    f.confidential,
    f.primary_suppression,
    -- a share reveals its count where the group's total is published, and the total where the
    -- count is: it is confidential when either is
    f.confidential or tf.confidential as share_confidential,
    c.quality_status,
    c.quality_reasons,
    c.note_keys,
    c.unreviewed_flag_ids
from cells as c
inner join final as f using (cell_id)
inner join cells as t
    on t.topic = c.topic
    and t.checkpoint = c.checkpoint
    and t.period_type = c.period_type
    and t.period = c.period
    and t.breakdown = c.breakdown
    and t.breakdown_value = c.breakdown_value
    and t.category = 'TOTAL'
inner join final as tf on tf.cell_id = t.cell_id

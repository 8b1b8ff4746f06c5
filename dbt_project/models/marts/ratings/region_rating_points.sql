-- The regional scorecard's points (docs/methodology.md#ratings): one row per region, performance
-- year and rated measure (seed rating_measures), tracing each point back to the year's target
-- attainment.
--
-- Outcome of a measure for a region and year, from target_attainment (months in a suppressed
-- period already left out there):
-- - EXCEPTIONAL: target MET and better than the England and Wales figure for the same year by
--   at least the measure's exceptional_margin (in the measure's polarity: lower is better for
--   SL028); MET, NEAR_MISS, MISSED: as target_attainment says;
-- - NO_TARGET (no target for the region and year), NO_VALID_MONTH (every month suppressed, or
--   none loaded since the measure became valid), NO_CASES (valid months but no cases): no points,
--   and the measure does not count toward the maximum.
-- Points per outcome come from the seed rating_points; a measure counts when its weight is
-- above 0 and it has an outcome that earns points. weighted_points = points x weight;
-- max_points = the best outcome's points x weight.
{% set national = var("national_code") %}

with attainment as (
    select *
    from {{ ref('target_attainment') }}
    where period_type = 'PERFORMANCE_YEAR'
),

years as (
    -- every performance year with a month measured and a target set, so a rated year never
    -- silently lacks a row
    select distinct {{ performance_year('month') }} as performance_year
    from {{ ref('measure_monthly') }}
    where {{ performance_year('month') }}
        in (select t.performance_year from {{ ref('int_targets') }} as t)
),

grid as (
    select r.region_code, r.region_name, y.performance_year, m.measure_code, m.weight,
        m.exceptional_margin
    from {{ ref('regions') }} as r
    cross join years as y
    cross join {{ ref('rating_measures') }} as m
),

national as (
    select measure_code, performance_year, performance as national_performance
    from attainment
    where geography_code = '{{ national }}'
),

compared as (
    select
        g.*,
        c.polarity,
        a.months,
        coalesce(a.months_counted, 0) as months_counted,
        coalesce(a.months_suppressed, 0) as months_suppressed,
        a.numerator,
        a.denominator,
        a.performance,
        a.target,
        a.target_type,
        a.near_miss_tolerance,
        a.status as attainment_status,
        n.national_performance,
        case when c.polarity = 'LOWER_IS_BETTER' then n.national_performance - a.performance
            else a.performance - n.national_performance end as better_than_national_by,
        coalesce(a.provisional, false) as provisional,
        t.measure_code is not null as has_target
    from grid as g
    inner join {{ ref('measure_catalogue') }} as c using (measure_code)
    left join {{ ref('int_targets') }} as t
        on t.measure_code = g.measure_code
        and t.geography_code = g.region_code
        and t.performance_year = g.performance_year
    left join attainment as a
        on a.measure_code = g.measure_code
        and a.geography_code = g.region_code
        and a.performance_year = g.performance_year
    left join national as n
        on n.measure_code = g.measure_code
        and n.performance_year = g.performance_year
),

outcomes as (
    select
        *,
        case
            when not has_target then 'NO_TARGET'
            when months_counted = 0 then 'NO_VALID_MONTH'
            when attainment_status is null then 'NO_CASES'
            when attainment_status = 'MET'
                and better_than_national_by >= exceptional_margin - 1e-9 then 'EXCEPTIONAL'
            else attainment_status
        end as outcome
    from compared
),

best as (
    select max(points) as best_points from {{ ref('rating_points') }}
)

select
    o.region_code,
    o.region_name,
    o.performance_year,
    o.measure_code,
    o.polarity,
    o.weight,
    o.exceptional_margin,
    o.months,
    o.months_counted,
    o.months_suppressed,
    o.numerator,
    o.denominator,
    o.performance,
    o.target,
    o.target_type,
    o.near_miss_tolerance,
    o.attainment_status,
    o.national_performance,
    o.better_than_national_by,
    o.outcome,
    p.points,
    o.weight > 0 and p.points is not null as counts,
    case when o.weight > 0 and p.points is not null then p.points * o.weight else 0 end
        as weighted_points,
    case when o.weight > 0 and p.points is not null then b.best_points * o.weight else 0 end
        as max_points,
    o.provisional
from outcomes as o
cross join best as b
left join {{ ref('rating_points') }} as p on p.outcome = o.outcome

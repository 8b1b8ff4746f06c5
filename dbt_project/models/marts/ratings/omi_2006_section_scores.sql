-- Offender Management Inspection (2006) scores by area and section, by the method of Appendix 3
-- "Scoring approach" of the Cumbria report (seed 004): the score of each of sections 1-3 is the
-- average (unweighted mean) of its general criteria's scores, kept unrounded with a copy rounded
-- half up to one decimal place (cast to decimal first, so 73.65 gives 73.7 whatever its binary
-- form). The Risk of Harm thread has its own row (section 'RoH') with the score as the report
-- gives it: an average over the Risk of Harm questions of sections 1 and 2, which the criteria
-- cannot reproduce. Section 4 is graded in words, so its row keeps the gradings as text and has
-- no score. Criteria below the priority line come from omi_2006_criteria (var omi_priority_line).
with criteria as (
    select
        *,
        -- numeric order of the criterion within its section (so 1.10 sorts after 1.9)
        cast(split_part(criterion, '.', 2) as integer) as criterion_order
    from {{ ref('omi_2006_criteria') }}
),

scored_sections as (
    select
        area,
        inspected,
        section,
        any_value(section_name) as section_name,
        avg(score) as score,
        count(*) as criteria_count,
        count(*) filter (where below_priority_line) as criteria_below_priority_line_count,
        coalesce(
            string_agg(criterion, '; ' order by criterion_order)
                filter (where below_priority_line),
            ''
        ) as criteria_below_priority_line,
        any_value(priority_line) as priority_line,
        cast(null as varchar) as gradings
    from criteria
    where section in ('1', '2', '3')
    group by area, inspected, section
),

graded_sections as (
    select
        area,
        inspected,
        section,
        any_value(section_name) as section_name,
        cast(null as double) as score,
        count(*) as criteria_count,
        cast(null as bigint) as criteria_below_priority_line_count,
        cast(null as varchar) as criteria_below_priority_line,
        cast(null as double) as priority_line,
        string_agg(criterion || ' ' || grading, '; ' order by criterion_order) as gradings
    from criteria
    where section = '4'
    group by area, inspected, section
),

threads as (
    select
        area,
        inspected,
        section,
        name as section_name,
        cast(trim(score) as double) as score,
        cast(null as bigint) as criteria_count,
        cast(null as bigint) as criteria_below_priority_line_count,
        cast(null as varchar) as criteria_below_priority_line,
        cast(null as double) as priority_line,
        cast(null as varchar) as gradings
    from {{ ref('omi_2006_criterion_scores') }}
    where criterion = 'thread'
),

all_sections as (
    select * from scored_sections
    union all by name
    select * from graded_sections
    union all by name
    select * from threads
)

select
    area,
    inspected,
    section,
    section_name,
    score,
    cast(round(cast(score as decimal(18, 6)), 1) as decimal(4, 1)) as score_1dp,
    criteria_count,
    criteria_below_priority_line_count,
    criteria_below_priority_line,
    priority_line,
    gradings
from all_sections

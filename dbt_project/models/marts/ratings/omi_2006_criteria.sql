-- Offender Management Inspection (HMI Probation, 2006-2009 programme) scores by area and general
-- criterion, from omi_2006_criterion_scores (seed 004: Cumbria, inspected July 2006, report
-- November 2006, "Summary of scores" and Appendix 3 "Scoring approach").
-- Sections 1-3 (case sample) score each criterion as a percentage; a criterion scoring strictly
-- below the "line of priority for improvement" is a primary focus for improvement. The report
-- draws the line on its chart without printing its value: it is the dbt var omi_priority_line
-- (default 70; `--vars '{omi_priority_line: 65}'` to change it). Section 4 (leadership and
-- strategic management) grades each criterion well / satisfactorily / partly / not met: kept as
-- text, never scored. The Risk of Harm thread is not a criterion (see omi_2006_section_scores).
{%- set priority_line = var('omi_priority_line', 70) %}
with scores as (
    select
        area,
        inspected,
        section,
        criterion,
        name as criterion_name,
        trim(score) as score_as_published,
        conclusion_in_report
    from {{ ref('omi_2006_criterion_scores') }}
    where criterion <> 'thread'
),

sections as (
    select t.*
    from (values
        ('1', 'Assessment and sentence planning'),
        ('2', 'Implementation of interventions'),
        ('3', 'Achievement and monitoring of outcomes'),
        ('4', 'Leadership and strategic management')
    ) as t (section, section_name)
),

typed as (
    select
        s.area,
        s.inspected,
        s.section,
        n.section_name,
        s.criterion,
        s.criterion_name,
        -- sections 1-3: a percentage; section 4: a grading in words
        case when s.section in ('1', '2', '3') then cast(s.score_as_published as double) end
            as score,
        case when s.section = '4' then s.score_as_published end as grading,
        s.conclusion_in_report
    from scores as s
    left join sections as n using (section)
)

select
    area,
    inspected,
    section,
    section_name,
    criterion,
    criterion_name,
    score,
    grading,
    case when section in ('1', '2', '3') then cast({{ priority_line }} as double) end
        as priority_line,
    case when section in ('1', '2', '3') then score < {{ priority_line }} end
        as below_priority_line,
    conclusion_in_report
from typed

-- The floor: every case-level measure of the catalogue (SL004 to SL040) and the delivered
-- returns by region and month, in one DuckDB script straight from the landing CSV files
-- (benchmarks/floor.py fills in the lists of files, the newest revision of each month, and the
-- month range). Written from docs/methodology.md (landing contract, measures). Its answer is checked cell by cell against the
-- pipeline's measure_monthly.
--
-- Each extract is read once: every delivered row as text, the file's month from its name, then
-- the landing contract's row rules (nulls in required fields, a fact dated outside its file's month: set aside,
-- so left out here) and each key's latest state (the newest month holding it wins). One
-- row_number per key, newest month first, does both that and the third row rule (a key repeated
-- in a file: the repeats set aside, one copy kept). Only the columns measures need are kept.

-- landing contract, snapshot extracts -------------------------------------------------------------------------

create temp table events as
with delivered as (
    select *, regexp_extract(filename, '_(\d{4}-\d{2})(_r\d+)?\.csv$', 1) as _month
    from read_csv({events}, header = true, all_varchar = true, filename = true)
),
latest as (
    select * from delivered
    where event_id is not null and crn is not null and region_code is not null
      and event_type is not null and start_date is not null
      and main_offence_category is not null and expected_end_date is not null
    qualify row_number() over (partition by event_id order by _month desc) = 1
)
select event_id, crn, region_code, event_type, release_type, main_offence_category, _month,
    start_date::date as start_date, termination_date::date as termination_date
from latest;

create temp table requirements as
with delivered as (
    select *, regexp_extract(filename, '_(\d{4}-\d{2})(_r\d+)?\.csv$', 1) as _month
    from read_csv({requirements}, header = true, all_varchar = true, filename = true)
),
latest as (
    select * from delivered
    where requirement_id is not null and event_id is not null and crn is not null
      and region_code is not null and requirement_type is not null and sentence_date is not null
    qualify row_number() over (partition by requirement_id order by _month desc) = 1
)
select requirement_id, event_id, region_code, requirement_type, termination_reason,
    sentence_date::date as sentence_date, termination_date::date as termination_date
from latest;

-- persons: not a latest state; SL040 reads each month's own file
create temp table persons as
with delivered as (
    select *, regexp_extract(filename, '_(\d{4}-\d{2})(_r\d+)?\.csv$', 1) as _month
    from read_csv({persons}, header = true, all_varchar = true, filename = true)
)
select _month as month, crn,
    coalesce(sex <> 'UNKNOWN' and ethnicity <> 'UNKNOWN' and disability <> 'UNKNOWN'
             and religion <> 'UNKNOWN' and sexual_orientation <> 'UNKNOWN', false) as recorded
from delivered
where crn is not null and sex is not null and age_band is not null and ethnicity is not null
  and disability is not null
qualify row_number() over (partition by _month, crn) = 1;

-- landing contract, fact extracts -------------------------------------------------------------------------------

-- contacts: the largest extract, kept as what measures ask of it: in-person contacts (SL004,
-- SL005, SL007; any outcome, "in person" in docs/methodology.md#measures), attended ones (SL006, any mode) and their month
create temp table contacts as
with delivered as (
    select *, regexp_extract(filename, '_(\d{4}-\d{2})(_r\d+)?\.csv$', 1) as _month
    from read_csv({contacts}, header = true, all_varchar = true, filename = true)
),
latest as (
    select * from delivered
    where contact_id is not null and crn is not null and event_id is not null
      and region_code is not null and contact_date is not null and mode is not null
      and outcome is not null and substr(contact_date, 1, 7) = _month
    qualify row_number() over (partition by contact_id order by _month desc) = 1
)
select crn, event_id, contact_date::date as contact_date, _month,
    mode in ('OFFICE', 'HOME_VISIT') as in_person, outcome = 'ATTENDED' as attended
from latest
where mode in ('OFFICE', 'HOME_VISIT') or outcome = 'ATTENDED';

create temp table sentence_plans as
with delivered as (
    select *, regexp_extract(filename, '_(\d{4}-\d{2})(_r\d+)?\.csv$', 1) as _month
    from read_csv({sentence_plans}, header = true, all_varchar = true, filename = true)
),
latest as (
    select * from delivered
    where plan_id is not null and event_id is not null and crn is not null
      and region_code is not null and completed_date is not null
      and substr(completed_date, 1, 7) = _month
    qualify row_number() over (partition by plan_id order by _month desc) = 1
)
select event_id, completed_date::date as completed_date
from latest;

create temp table upw_sessions as
with delivered as (
    select *, regexp_extract(filename, '_(\d{4}-\d{2})(_r\d+)?\.csv$', 1) as _month
    from read_csv({upw_sessions}, header = true, all_varchar = true, filename = true)
),
latest as (
    select * from delivered
    where session_id is not null and requirement_id is not null and crn is not null
      and region_code is not null and session_date is not null and status is not null
      and substr(session_date, 1, 7) = _month
    qualify row_number() over (partition by session_id order by _month desc) = 1
)
select requirement_id, region_code, session_date::date as session_date, status
from latest;

-- accommodation and employment checks in one table, a key being the extract and check_id
create temp table checks as
with delivered as (
    select *, regexp_extract(filename, '_(\d{4}-\d{2})(_r\d+)?\.csv$', 1) as _month,
        regexp_extract(filename, '([a-z_]+)_\d{4}-\d{2}(_r\d+)?\.csv$', 1) as _extract
    from read_csv({accommodation_checks} || {employment_checks}, header = true,
                  all_varchar = true, filename = true)
),
latest as (
    select * from delivered
    where check_id is not null and event_id is not null and crn is not null
      and region_code is not null and checkpoint is not null and check_date is not null
      and status is not null and substr(check_date, 1, 7) = _month
    qualify row_number() over (partition by _extract, check_id order by _month desc) = 1
)
select event_id, check_id, checkpoint, check_date::date as check_date, status
from latest;

create temp table recalls as
with delivered as (
    select *, regexp_extract(filename, '_(\d{4}-\d{2})(_r\d+)?\.csv$', 1) as _month
    from read_csv({recalls}, header = true, all_varchar = true, filename = true)
),
latest as (
    select * from delivered
    where recall_id is not null and crn is not null and region_code is not null
      and return_to_custody_date is not null and part_b_due_date is not null
      and substr(return_to_custody_date, 1, 7) = _month
    qualify row_number() over (partition by recall_id order by _month desc) = 1
)
select region_code, _month as month,
    coalesce(part_b_supplied_date::date <= part_b_due_date::date, false) as met
from latest;

create temp table parole_reports as
with delivered as (
    select *, regexp_extract(filename, '_(\d{4}-\d{2})(_r\d+)?\.csv$', 1) as _month
    from read_csv({parole_reports}, header = true, all_varchar = true, filename = true)
),
latest as (
    select * from delivered
    where report_id is not null and crn is not null and region_code is not null
      and sentence_kind is not null and due_date is not null
      and substr(due_date, 1, 7) = _month
    qualify row_number() over (partition by report_id order by _month desc) = 1
)
select region_code, _month as month, coalesce(sent_date::date <= due_date::date, false) as met
from latest;

create temp table handovers as
with delivered as (
    select *, regexp_extract(filename, '_(\d{4}-\d{2})(_r\d+)?\.csv$', 1) as _month
    from read_csv({handovers}, header = true, all_varchar = true, filename = true)
),
latest as (
    select * from delivered
    where handover_id is not null and crn is not null and region_code is not null
      and com_allocated_date is not null and months_to_serve is not null
      and substr(com_allocated_date, 1, 7) = _month
    qualify row_number() over (partition by handover_id order by _month desc) = 1
)
select region_code, _month as month, months_to_serve::integer as months_to_serve,
    coalesce(meeting_date::date between com_allocated_date::date
             and com_allocated_date::date + 28, false) as met
from latest;

-- business days (docs/methodology.md#measures): add_business_days(d, n) is the n-th business day strictly after d
create temp table calendar as
select calendar_date::date as calendar_date, is_business_day::boolean as is_business_day,
    business_day_seq::integer as business_day_seq
from read_csv({calendar}, header = true, all_varchar = true);

create temp table months as
select strftime(m, '%Y-%m') as month, m::date as first_day,
    (m + interval 1 month - interval 1 day)::date as last_day
from range(strptime({start} || '-01', '%Y-%m-%d'), strptime({end} || '-01', '%Y-%m-%d')
           + interval 1 month, interval 1 month) as t(m);

-- measures (docs/methodology.md#measures): one row per case, its measure, region, cohort month and whether it is met ------

create temp table cases (measure_code varchar, region_code varchar, month varchar, met boolean);

-- SL004: CO/SSO starting in the month, an in-person contact within 5 business days;
-- SL005: licence releases, within 1 business day (3 after release from court on remand)
insert into cases
with initial as (
    select e.event_id, e.region_code, e.start_date,
        case when e.event_type = 'LICENCE' then 'SL005' else 'SL004' end as measure_code,
        case when e.event_type <> 'LICENCE' then 5
             when e.release_type = 'REMAND_FROM_COURT' then 3 else 1 end as allowed
    from events as e
    where e.event_type in ('CO', 'SSO', 'LICENCE')
      and strftime(e.start_date, '%Y-%m') between {start} and {end}
),
initial_windows as (
    select i.*, due.calendar_date as window_end
    from initial as i
    join calendar as day on day.calendar_date = i.start_date
    join calendar as due
      on due.is_business_day and due.business_day_seq = day.business_day_seq + i.allowed
)
select measure_code, region_code, strftime(start_date, '%Y-%m'),
    exists (
        select 1 from contacts as c
        where c.in_person and c.event_id = w.event_id
          and c.contact_date between w.start_date and w.window_end
    )
from initial_windows as w;

-- SL006: CO/SSO/licence events, cohort month of their first ATTENDED contact (any mode); an
-- event that started before the first month of contacts data (the first month read here, so
-- run the floor from the pipeline's first month) is left out; met with a sentence plan for the
-- event completed within 15 business days after that first attendance
insert into cases
with first_attended as (
    select event_id, min(contact_date) as attended_date
    from contacts where attended group by event_id
),
cohort as (
    select e.event_id, e.region_code, f.attended_date, due.calendar_date as window_end
    from first_attended as f
    join events as e using (event_id)
    join calendar as day on day.calendar_date = f.attended_date
    join calendar as due
      on due.is_business_day and due.business_day_seq = day.business_day_seq + 15
    where e.event_type in ('CO', 'SSO', 'LICENCE')
      and e.start_date >= (select strptime(min(_month) || '-01', '%Y-%m-%d') from contacts)
      and strftime(f.attended_date, '%Y-%m') between {start} and {end}
)
select 'SL006', region_code, strftime(attended_date, '%Y-%m'),
    exists (
        select 1 from sentence_plans as p
        where p.event_id = c.event_id and p.completed_date between c.attended_date and c.window_end
    )
from cohort as c;

-- SL007: people with an event that started before the month and is not terminated before its
-- last day (an event that vanished ends with the last file holding it); region of the
-- latest-starting such event; met with an in-person contact dated in the month.
-- SL040: people with an event active in the month (same reading of a vanished event); region of
-- their latest-starting active event; met when that month's persons file records sex,
-- ethnicity, disability, religion and sexual orientation (absent from the file: not recorded).
-- Ties on the latest start go to the highest event_id. This landing has no vanished events,
-- so the comparison does not test that reading.
insert into cases
with newest as (select max(_month) as month from events),
alive as (
    select m.month, m.first_day, m.last_day, e.crn, e.event_id, e.region_code, e.start_date,
        e.termination_date
    from events as e
    cross join newest
    join months as m
      on e.start_date <= m.last_day
     and (e.termination_date is null or e.termination_date >= m.first_day)
     and not (e.termination_date is null and e._month < newest.month and m.month > e._month)
),
supervised as (
    select month, crn, region_code from alive
    where start_date < first_day and (termination_date is null or termination_date >= last_day)
    qualify row_number() over (partition by crn, month order by start_date desc, event_id desc) = 1
),
seen as (select distinct crn, _month as month from contacts where in_person),
active as (
    select month, crn, region_code from alive
    qualify row_number() over (partition by crn, month order by start_date desc, event_id desc) = 1
)
select 'SL007', s.region_code, s.month, seen.crn is not null
from supervised as s
left join seen using (crn, month)
union all
select 'SL040', a.region_code, a.month, coalesce(p.recorded, false)
from active as a
left join persons as p using (crn, month);

-- SL010: recalls by month of return to custody, part B supplied by its due date;
-- SL011: parole reports by month due, sent by the due date;
-- SL022: handovers by month of COM allocation with more than 10 months to serve, the meeting
-- within 28 days after allocation
insert into cases
select 'SL010', region_code, month, met from recalls
union all
select 'SL011', region_code, month, met from parole_reports
union all
select 'SL022', region_code, month, met from handovers where months_to_serve > 10;

-- SL012: events terminated in the month for a SEXUAL offence, met with an accredited
-- programme, structured intervention or toolkit requirement terminated COMPLETED;
-- SL013: CO/SSO events terminated in the month with an accredited programme, RAR or UPW
-- requirement, met when every such requirement terminated COMPLETED
insert into cases
with ended as (
    select event_id, region_code, event_type, main_offence_category,
        strftime(termination_date, '%Y-%m') as month
    from events
    where strftime(termination_date, '%Y-%m') between {start} and {end}
),
programmes as (
    select event_id,
        bool_or(requirement_type in ('ACCREDITED_PROGRAMME', 'STRUCTURED_INTERVENTION', 'TOOLKIT')
                and termination_reason = 'COMPLETED') as sl012_met,
        bool_or(requirement_type in ('ACCREDITED_PROGRAMME', 'RAR', 'UPW')) as sl013_case,
        bool_and(coalesce(termination_reason = 'COMPLETED', false))
            filter (where requirement_type in ('ACCREDITED_PROGRAMME', 'RAR', 'UPW')) as sl013_met
    from requirements
    where event_id in (select event_id from ended)
    group by event_id
)
select 'SL012', e.region_code, e.month, coalesce(p.sl012_met, false)
from ended as e
left join programmes as p using (event_id)
where e.main_offence_category = 'SEXUAL'
union all
select 'SL013', e.region_code, e.month, p.sl013_met
from ended as e
join programmes as p using (event_id)
where e.event_type in ('CO', 'SSO') and p.sl013_case;

-- SL014: licence releases housed (SETTLED or TEMPORARY) by the release-night check dated on
-- the release date or the day after; no check counts as not housed
insert into cases
with releases as (
    select event_id, region_code, start_date from events
    where event_type = 'LICENCE' and strftime(start_date, '%Y-%m') between {start} and {end}
),
night as (
    select r.event_id, c.status
    from releases as r
    join checks as c
      on c.event_id = r.event_id and c.checkpoint = 'RELEASE_NIGHT'
     and c.check_date between r.start_date and r.start_date + 1
    qualify row_number() over (
        partition by r.event_id order by c.check_date desc, c.check_id desc
    ) = 1
)
select 'SL014', r.region_code, strftime(r.start_date, '%Y-%m'),
    coalesce(n.status in ('SETTLED', 'TEMPORARY'), false)
from releases as r
left join night as n using (event_id);

-- SL015A/B, SL016, SL017A/B: events of the checkpoint's kind (LICENCE, or CO/SSO) with that
-- check in the month, met by its status; the event's region (docs/methodology.md#measures: an event's region is its
-- region_code, latest state). The methodology leaves open an event with two such checks in one month: the
-- latest one is taken (this landing has none, so the comparison does not test the choice)
insert into cases
with checkpoints(checkpoint, measure_code, event_kind, good) as (
    values ('POST_RELEASE_3M', 'SL015A', 'LICENCE', 'SETTLED'),
           ('POST_DISPOSAL_3M', 'SL015B', 'COMMUNITY', 'SETTLED'),
           ('POST_RELEASE_6W', 'SL016', 'LICENCE', 'EMPLOYED'),
           ('POST_RELEASE_6M', 'SL017A', 'LICENCE', 'EMPLOYED'),
           ('POST_DISPOSAL_6M', 'SL017B', 'COMMUNITY', 'EMPLOYED')
)
select k.measure_code, e.region_code, strftime(c.check_date, '%Y-%m'), c.status = k.good
from checks as c
join checkpoints as k using (checkpoint)
join events as e using (event_id)
where strftime(c.check_date, '%Y-%m') between {start} and {end}
  and case k.event_kind when 'LICENCE' then e.event_type = 'LICENCE'
                        else e.event_type in ('CO', 'SSO') end
qualify row_number() over (
    partition by k.measure_code, c.event_id, strftime(c.check_date, '%Y-%m')
    order by c.check_date desc, c.check_id desc
) = 1;

-- SL027: UPW requirements by month of sentence, met when the earliest UPW session (any status)
-- falls within 15 business days after the sentence date;
-- SL029: UPW requirements terminated in the month, met when terminated COMPLETED within 12
-- months of the sentence date; SL033: accredited programme requirements terminated in the
-- month, met when terminated COMPLETED
insert into cases
with upw as (
    select r.requirement_id, r.region_code, r.sentence_date, due.calendar_date as window_end
    from requirements as r
    join calendar as day on day.calendar_date = r.sentence_date
    join calendar as due
      on due.is_business_day and due.business_day_seq = day.business_day_seq + 15
    where r.requirement_type = 'UPW'
      and strftime(r.sentence_date, '%Y-%m') between {start} and {end}
),
first_session as (
    select requirement_id, min(session_date) as session_date
    from upw_sessions group by requirement_id
)
select 'SL027', u.region_code, strftime(u.sentence_date, '%Y-%m'),
    coalesce(f.session_date between u.sentence_date and u.window_end, false)
from upw as u
left join first_session as f using (requirement_id)
union all
select case requirement_type when 'UPW' then 'SL029' else 'SL033' end, region_code,
    strftime(termination_date, '%Y-%m'),
    case requirement_type
        when 'UPW' then coalesce(termination_reason = 'COMPLETED'
                                 and termination_date <= sentence_date + interval 12 month, false)
        else coalesce(termination_reason = 'COMPLETED', false) end
from requirements
where requirement_type in ('UPW', 'ACCREDITED_PROGRAMME')
  and strftime(termination_date, '%Y-%m') between {start} and {end};

-- SL028: UPW sessions dated in the month; met (lower is better) when STOOD_DOWN
insert into cases
select 'SL028', region_code, strftime(session_date, '%Y-%m'), status = 'STOOD_DOWN'
from upw_sessions
where strftime(session_date, '%Y-%m') between {start} and {end};

create temp table cells as
with case_cells as (
    select measure_code, region_code, month,
        count(*) filter (where met) as numerator, count(*) as denominator
    from cases
    group by all
),
-- returns: as delivered (newest revision of each month, rows within the file's month)
returns as (
    select measure_code, region_code, period_month as month,
        numerator::bigint as numerator, denominator::bigint as denominator
    from read_csv({measure_returns}, header = true, all_varchar = true, filename = true)
    where measure_code is not null and region_code is not null and period_month is not null
      and numerator is not null and denominator is not null
      and period_month = regexp_extract(filename, '_(\d{4}-\d{2})(_r\d+)?\.csv$', 1)
      and period_month between {start} and {end}
)
select * from case_cells
union all
select * from returns;

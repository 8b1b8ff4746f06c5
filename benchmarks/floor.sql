-- The floor: SL004, SL005, SL007, SL014 and the delivered returns by region and month, in one
-- DuckDB script straight from the landing CSV files (benchmarks/floor.py fills in the lists of
-- files, the newest revision of each month, and the month range). Written from DESIGN §3-§4.
-- Its answer is checked cell by cell against the pipeline's measure_monthly.

-- §3: every delivered row as text; the file's month from its name
create temp table events_rows as
select *, regexp_extract(filename, '_(\d{4}-\d{2})(_r\d+)?\.csv$', 1) as _month
from read_csv({events}, header = true, all_varchar = true, filename = true);

create temp table contacts_rows as
select *, regexp_extract(filename, '_(\d{4}-\d{2})(_r\d+)?\.csv$', 1) as _month
from read_csv({contacts}, header = true, all_varchar = true, filename = true);

create temp table checks_rows as
select *, regexp_extract(filename, '_(\d{4}-\d{2})(_r\d+)?\.csv$', 1) as _month
from read_csv({accommodation_checks}, header = true, all_varchar = true, filename = true);

-- §3 row rules (nulls in required fields, a fact dated outside its file's month, a key twice
-- in a file) and the latest state of each key (the newest month holding it wins)
create temp table events as
with kept as (
    select * from events_rows
    where event_id is not null and crn is not null and region_code is not null
      and event_type is not null and start_date is not null
      and main_offence_category is not null and expected_end_date is not null
    qualify row_number() over (partition by _month, event_id) = 1
)
select event_id, crn, region_code, event_type, release_type, _month,
    start_date::date as start_date, termination_date::date as termination_date
from kept
qualify row_number() over (partition by event_id order by _month desc) = 1;

create temp table in_person as
with kept as (
    select * from contacts_rows
    where contact_id is not null and crn is not null and event_id is not null
      and region_code is not null and contact_date is not null and mode is not null
      and outcome is not null and substr(contact_date, 1, 7) = _month
    qualify row_number() over (partition by _month, contact_id) = 1
),
latest as (
    select * from kept qualify row_number() over (partition by contact_id order by _month desc) = 1
)
select crn, event_id, contact_date::date as contact_date
from latest
where mode in ('OFFICE', 'HOME_VISIT');

create temp table release_night as
with kept as (
    select * from checks_rows
    where check_id is not null and event_id is not null and crn is not null
      and region_code is not null and checkpoint is not null and check_date is not null
      and status is not null and substr(check_date, 1, 7) = _month
    qualify row_number() over (partition by _month, check_id) = 1
),
latest as (
    select * from kept qualify row_number() over (partition by check_id order by _month desc) = 1
)
select event_id, check_id, check_date::date as check_date, status
from latest
where checkpoint = 'RELEASE_NIGHT';

-- §4 business days: add_business_days(d, n) is the n-th business day strictly after d
create temp table calendar as
select calendar_date::date as calendar_date, is_business_day::boolean as is_business_day,
    business_day_seq::integer as business_day_seq
from read_csv({calendar}, header = true, all_varchar = true);

create temp table cells as
with
-- SL004: CO/SSO starting in the month, an in-person contact within 5 business days;
-- SL005: licence releases, within 1 business day (3 after release from court on remand)
initial as (
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
),
initial_cases as (
    select measure_code, region_code, strftime(start_date, '%Y-%m') as month,
        exists (
            select 1 from in_person as c
            where c.event_id = w.event_id and c.contact_date between w.start_date and w.window_end
        ) as met
    from initial_windows as w
),
-- SL007: people with an event that started before the month and is not terminated before its
-- last day (an event that vanished ends with the last file holding it); region of the
-- latest-starting such event; met with an in-person contact dated in the month
months as (
    select strftime(m, '%Y-%m') as month, m::date as first_day,
        (m + interval 1 month - interval 1 day)::date as last_day
    from range(strptime({start} || '-01', '%Y-%m-%d'), strptime({end} || '-01', '%Y-%m-%d')
               + interval 1 month, interval 1 month) as t(m)
),
newest as (select max(_month) as month from events),
supervised as (
    select m.month, e.crn, e.region_code
    from events as e
    cross join newest
    join months as m
      on e.start_date < m.first_day
     and (e.termination_date is null or e.termination_date >= m.last_day)
     and not (e.termination_date is null and e._month < newest.month and m.month > e._month)
    qualify row_number() over (
        partition by e.crn, m.month order by e.start_date desc, e.event_id desc
    ) = 1
),
seen as (select distinct crn, strftime(contact_date, '%Y-%m') as month from in_person),
sl007 as (
    select 'SL007' as measure_code, s.region_code, s.month, seen.crn is not null as met
    from supervised as s
    left join seen on seen.crn = s.crn and seen.month = s.month
),
-- SL014: licence releases housed (SETTLED or TEMPORARY) by the release-night check dated on
-- the release date or the day after; no check counts as not housed
releases as (
    select event_id, region_code, start_date from events
    where event_type = 'LICENCE' and strftime(start_date, '%Y-%m') between {start} and {end}
),
night as (
    select r.event_id, c.status
    from releases as r
    join release_night as c
      on c.event_id = r.event_id and c.check_date between r.start_date and r.start_date + 1
    qualify row_number() over (
        partition by r.event_id order by c.check_date desc, c.check_id desc
    ) = 1
),
sl014 as (
    select 'SL014' as measure_code, r.region_code, strftime(r.start_date, '%Y-%m') as month,
        coalesce(n.status in ('SETTLED', 'TEMPORARY'), false) as met
    from releases as r
    left join night as n using (event_id)
),
case_cells as (
    select measure_code, region_code, month,
        count(*) filter (where met) as numerator, count(*) as denominator
    from (
        select * from initial_cases
        union all select * from sl007
        union all select * from sl014
    )
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

-- Quality status of every published subject (measure), geography and month: OK, CAVEAT, WARN or
-- SUPPRESS, with the reasons. Publication reads this table to mask suppressed cells with [x] and
-- to note caveats. Sources: the known-period seed (DESIGN §6). Where several rules touch a cell
-- the strictest status wins (SUPPRESS > WARN > CAVEAT > OK) and every reason is kept.
with cells as (
    select distinct measure_code as subject, geography_code, month
    from {{ ref('measure_monthly') }}
),

known_periods as (
    select * from {{ ref('known_quality_periods') }}
),

known_flags as (
    select
        c.subject,
        c.geography_code,
        c.month,
        k.status,
        k.reason,
        'known_period' as rule
    from cells as c
    inner join known_periods as k
        on c.month <= k.period_end
        and last_day(c.month) >= k.period_start
),

flags as (
    select * from known_flags
),

ranked as (
    select
        subject,
        geography_code,
        month,
        max(case status when 'SUPPRESS' then 4 when 'WARN' then 3 when 'CAVEAT' then 2 else 1 end)
            as severity,
        string_agg(rule || ': ' || reason, ' | ' order by status desc, reason) as reasons
    from flags
    group by subject, geography_code, month
)

select
    'MEASURE' as subject_type,
    c.subject,
    c.geography_code,
    c.month,
    case r.severity when 4 then 'SUPPRESS' when 3 then 'WARN' when 2 then 'CAVEAT' else 'OK' end
        as status,
    coalesce(r.reasons, '') as reasons
from cells as c
left join ranked as r
    on r.subject = c.subject
    and r.geography_code = c.geography_code
    and r.month = c.month

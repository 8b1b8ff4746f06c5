-- Persons as described in each month's persons file (characteristics can be recorded later, so
-- SL040 reads the month's own file, not the latest state). One row per person and month.
select
    *,
    strptime(_month || '-01', '%Y-%m-%d')::date as month
from {{ source('raw', 'persons') }}
qualify row_number() over (
    partition by crn, _month order by _source_revision desc, _source_line desc
) = 1

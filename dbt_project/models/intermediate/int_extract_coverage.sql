-- Which months each extract has been loaded for (from the load ledger, so a month delivered
-- with a header only still counts as covered). A month whose measurement window runs past
-- `covered_until` of the extract feeding its numerator can still change: it is provisional.
select
    extract,
    min(month) as first_month,
    max(month) as last_month,
    count(*) as months_loaded,
    last_day(max(month)) as covered_until
from {{ ref('stg_loads') }}
group by extract

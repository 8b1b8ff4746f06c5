-- Which months each extract has been loaded for (from the load ledger, so a month delivered
-- with a header only still counts as covered): the reported months (int_cohort_months) and
-- SL006's left-censoring read it. Whether a month is final is int_case_window_holds' business.
select
    extract,
    min(month) as first_month,
    max(month) as last_month,
    count(*) as months_loaded,
    last_day(max(month)) as covered_until
from {{ ref('stg_loads') }}
group by extract

-- The months measures are reported for: every month from the first to the last month whose
-- events snapshot has been loaded.
select unnest(generate_series(first_month, last_month, interval 1 month))::date as month
from {{ ref('int_extract_coverage') }}
where extract = 'events'

-- How far each measure's data reach: the earliest `covered_until` among the extracts it reads
-- (int_measure_sources). A case whose window closes after this date can still be completed by a
-- later delivery.
select
    s.measure_code,
    min(cov.covered_until) as covered_until,
    count(cov.extract) = count(*) as all_sources_loaded
from {{ ref('int_measure_sources') }} as s
left join {{ ref('int_extract_coverage') }} as cov on cov.extract = s.extract
group by s.measure_code

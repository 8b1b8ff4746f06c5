-- How far each measure's data reach: the earliest `covered_until` among the extracts it reads
-- (catalogue column source_extracts). A case whose window closes after this date can still be
-- completed by a later delivery.
with sources as (
    select c.measure_code, trim(s.extract) as extract
    from {{ ref('measure_catalogue') }} as c
    cross join unnest(string_split(c.source_extracts, ';')) as s(extract)
    where c.source_extracts is not null and c.source_extracts <> ''
)

select
    s.measure_code,
    min(cov.covered_until) as covered_until,
    count(cov.extract) = count(*) as all_sources_loaded
from sources as s
left join {{ ref('int_extract_coverage') }} as cov on cov.extract = s.extract
group by s.measure_code

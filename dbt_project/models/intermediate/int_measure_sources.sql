-- Which extracts each measure reads (catalogue column source_extracts, `;` separated): one row
-- per measure and extract. period_quality uses it to give a measure cell the quality flags of
-- every extract behind it; int_case_window_holds to tell when a measure's case is provisional.
select distinct c.measure_code, trim(s.extract) as extract
from {{ ref('measure_catalogue') }} as c
cross join unnest(string_split(c.source_extracts, ';')) as s (extract)
where c.source_extracts is not null and trim(s.extract) <> ''

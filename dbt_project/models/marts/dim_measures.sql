-- The measure catalogue as analysts query it: every code in the framework, including those still
-- "to be determined" (listed, never computed or published).
select
    measure_code,
    measure_name,
    description,
    framework,
    polarity,
    valid_from,
    method,
    source_extracts,
    unit_of_count,
    publication_grain,
    method <> 'TO_BE_DETERMINED' as is_published
from {{ ref('measure_catalogue') }}

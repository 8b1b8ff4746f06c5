-- Geographies of the published tables: England and Wales and the 12 probation regions.
select
    'NATIONAL' as geography_level,
    '{{ var("national_code") }}' as geography_code,
    '{{ var("national_name") }}' as geography_name,
    cast(null as varchar) as parent_code
union all
select
    'REGION' as geography_level,
    region_code as geography_code,
    region_name as geography_name,
    '{{ var("national_code") }}' as parent_code
from {{ ref('regions') }}

-- The inspection league table (docs/methodology.md#ratings, seed 001): one row per organisation
-- inspected, from its latest inspection (newest published_date, then highest inspection_id), with
-- its total score, banded rating and rank within the framework (rank(): equal totals share a rank
-- and the next rank skips), the previous inspection's total and rating when re-inspected, and the
-- organisation's area as successor region codes. An organisation is its type and code together (N03
-- is both NPS Wales and the Wales region).
with scores as (
    select
        *,
        row_number() over (
            partition by organisation_type, organisation_code
            order by published_date desc, inspection_id desc
        ) as recency,
        count(*) over (partition by organisation_type, organisation_code) as inspections
    from {{ ref('inspection_scores') }}
),

areas as (
    -- successor region codes (';'-separated): from the providers seed for a CRC or NPS
    -- division, the region itself for a region, the PDU's region for a PDU
    select provider_type as organisation_type, provider_code as organisation_code,
        successor_region_codes as area_region_codes
    from {{ ref('providers') }}
    union all
    select
        'REGION' as organisation_type,
        region_code as organisation_code,
        region_code as area_region_codes
    from {{ ref('regions') }}
    union all
    select
        'PDU' as organisation_type,
        pdu_code as organisation_code,
        region_code as area_region_codes
    from {{ ref('pdus') }}
),

latest as (
    select * from scores where recency = 1
),

previous as (
    select * from scores where recency = 2
)

select
    l.organisation_type,
    l.organisation_code,
    l.organisation_name,
    a.area_region_codes,
    l.framework,
    l.inspection_id,
    l.published_date,
    l.n_standards,
    l.max_score,
    l.total_score,
    l.rating,
    rank() over (partition by l.framework order by l.total_score desc) as rank_in_framework,
    rank() over (
        partition by l.framework, l.organisation_type order by l.total_score desc
    ) as rank_in_type,
    count(*) over (partition by l.framework) as organisations_in_framework,
    l.standards_outstanding,
    l.standards_good,
    l.standards_requires_improvement,
    l.standards_inadequate,
    l.inspections,
    p.inspection_id as previous_inspection_id,
    p.published_date as previous_published_date,
    p.total_score as previous_total_score,
    p.rating as previous_rating
from latest as l
left join previous as p using (organisation_type, organisation_code)
left join areas as a using (organisation_type, organisation_code)

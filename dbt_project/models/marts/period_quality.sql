-- Quality status of every measure and every extract, by geography and month: OK, CAVEAT, WARN
-- or SUPPRESS, with every reason. Publication reads this table to mask suppressed cells with [x]
-- and to note caveats; the publication gate blocks an edition with a WARN cell in its window.
--
-- Sources (docs/methodology.md#quality-periods-and-the-publication-gate):
-- - the known-period seed (known_quality_periods), for measures and extracts alike;
-- - flags from the data (data_quality_flags, the pandera rules of schemas/quality.py): an
--   unreviewed flag is WARN, a reviewed one SUPPRESS (decision suppress) or OK (decision
--   publish, the reviewer's reason kept).
-- Where a flag applies:
-- - an EXTRACT flag (extract, region, month) to that extract's row for the region and for
--   England and Wales; a flag on an extract profiled only nationally (persons) to every region;
-- - a MEASURE cell takes the flags of every extract it reads (catalogue source_extracts) in
--   its geography and month, and its own measure_jump flags; England and Wales takes the flags
--   of its regions.
-- Where several apply, the strictest status wins (macro quality_severity: SUPPRESS > WARN >
-- CAVEAT > OK). note_keys name the notes (seed publication_notes) that explain the cell.
{% set national = var("national_code") %}

with measure_cells as (
    select distinct 'MEASURE' as subject_type, measure_code as subject, geography_code, month
    from {{ ref('measure_monthly') }}
),

extract_cells as (
    select distinct 'EXTRACT' as subject_type, l.extract as subject, g.geography_code, l.month
    from {{ ref('stg_loads') }} as l
    cross join {{ ref('dim_geographies') }} as g
),

cells as (
    select * from measure_cells
    union all
    select * from extract_cells
),

known_flags as (
    select
        c.subject_type,
        c.subject,
        c.geography_code,
        c.month,
        k.status,
        'known_period: ' || k.reason as reason,
        cast(null as varchar) as flag_id,
        k.note_key
    from cells as c
    inner join {{ ref('known_quality_periods') }} as k
        on c.month <= k.period_end
        and last_day(c.month) >= k.period_start
),

data_flags as (
    select flag_id, subject_type, subject, geography_code, month, status, reason
    from {{ ref('data_quality_flags') }}
),

raised_and_national as (
    -- every flag where it was raised, and a region's flag for England and Wales as well
    select subject_type, subject, geography_code, month, status, reason, flag_id
    from data_flags
    union all
    select
        subject_type, subject, '{{ national }}' as geography_code, month, status, reason, flag_id
    from data_flags
    where geography_code <> '{{ national }}'
),

extract_targets as (
    select subject, geography_code, month, status, reason, flag_id
    from raised_and_national
    where subject_type = 'EXTRACT'
    union all
    -- an extract profiled only nationally (persons): its flag applies to every region
    select f.subject, r.region_code as geography_code, f.month, f.status, f.reason, f.flag_id
    from data_flags as f
    cross join {{ ref('regions') }} as r
    where f.subject_type = 'EXTRACT' and f.geography_code = '{{ national }}'
),

measure_targets as (
    select s.measure_code as subject, t.geography_code, t.month, t.status, t.reason, t.flag_id
    from extract_targets as t
    inner join {{ ref('int_measure_sources') }} as s on s.extract = t.subject
    union all
    select subject, geography_code, month, status, reason, flag_id
    from raised_and_national
    where subject_type = 'MEASURE'
),

flags as (
    -- a flag the statistician reviewed as suppress or caveat points readers to the quality
    -- review note; an unreviewed (WARN) flag holds the edition, so it needs no note
    select distinct
        subject_type, subject, geography_code, month, status, reason, flag_id,
        coalesce(note_key, case when status in ('SUPPRESS', 'CAVEAT') then 'QUALITY_REVIEW' end)
            as note_key
    from (
        select * from known_flags
        union all
        select
            'EXTRACT' as subject_type, subject, geography_code, month, status, reason, flag_id,
            cast(null as varchar) as note_key
        from extract_targets
        union all
        select
            'MEASURE' as subject_type, subject, geography_code, month, status, reason, flag_id,
            cast(null as varchar) as note_key
        from measure_targets
    )
),

ranked as (
    select
        subject_type,
        subject,
        geography_code,
        month,
        max({{ quality_severity('status') }}) as severity,
        string_agg(reason, ' | ' order by {{ quality_severity('status') }} desc, reason)
            as reasons,
        string_agg(distinct note_key, ',' order by note_key) as note_keys,
        string_agg(flag_id, ', ' order by flag_id) as flag_ids,
        string_agg(flag_id, ', ' order by flag_id) filter (where status = 'WARN')
            as unreviewed_flag_ids
    from flags
    group by subject_type, subject, geography_code, month
)

select
    c.subject_type,
    c.subject,
    c.geography_code,
    c.month,
    {{ quality_status_of('r.severity') }} as status,
    coalesce(r.reasons, '') as reasons,
    coalesce(r.flag_ids, '') as flag_ids,
    coalesce(r.unreviewed_flag_ids, '') as unreviewed_flag_ids,
    coalesce(r.note_keys, '') as note_keys
from cells as c
left join ranked as r
    on r.subject_type = c.subject_type
    and r.subject = c.subject
    and r.geography_code = c.geography_code
    and r.month = c.month

-- NPS divisions against the CRCs in their area (seed 001, comparison 2): one row per NPS
-- division from the league table (latest inspection), with the CRCs of the same framework whose
-- area shares at least one successor region with the division's (N01 NPS North West, N50;N51,
-- covers C02, C06 and C07): how many, their mean, best and worst totals, how many the division
-- outscores (a strictly higher total; a tie does not count) and whether it outscores them all.
with league as (
    select * from {{ ref('inspection_league_table') }}
),

divisions as (
    select * from league where organisation_type = 'NPS_DIVISION'
),

crcs as (
    select * from league where organisation_type = 'CRC'
),

pairs as (
    select
        d.organisation_code as division_code,
        c.organisation_code as crc_code,
        c.total_score as crc_total_score,
        d.total_score > c.total_score as outscored
    from divisions as d
    inner join crcs as c
        on c.framework = d.framework
        and len(list_intersect(
            string_split(d.area_region_codes, ';'), string_split(c.area_region_codes, ';')
        )) > 0
),

area_crcs as (
    select
        division_code,
        count(*) as crcs_in_area,
        string_agg(crc_code, ';' order by crc_code) as crc_codes,
        avg(crc_total_score) as crc_mean_total_score,
        max(crc_total_score) as crc_best_total_score,
        min(crc_total_score) as crc_worst_total_score,
        count(*) filter (where outscored) as crcs_outscored
    from pairs
    group by division_code
)

select
    d.organisation_code as division_code,
    d.organisation_name as division_name,
    d.area_region_codes,
    d.framework,
    d.inspection_id,
    d.published_date,
    d.total_score,
    d.rating,
    d.rank_in_framework,
    coalesce(c.crcs_in_area, 0) as crcs_in_area,
    c.crc_codes,
    c.crc_mean_total_score,
    c.crc_best_total_score,
    c.crc_worst_total_score,
    coalesce(c.crcs_outscored, 0) as crcs_outscored,
    case when c.crcs_in_area > 0 then c.crcs_outscored = c.crcs_in_area end
        as outscores_every_crc_in_area
from divisions as d
left join area_crcs as c on c.division_code = d.organisation_code

-- Organisation types compared (seed 001, comparison 1): one row per framework and organisation
-- type (NPS divisions against CRCs under HMIP 2018; regions and PDUs under HMIP 2021), from the
-- league table (each organisation's latest inspection): how many organisations, their mean
-- total score (unrounded) and how many are rated each way.
select
    framework,
    organisation_type,
    count(*) as organisations,
    avg(total_score) as mean_total_score,
    avg(total_score / max_score) as mean_share_of_max_score,
    count(*) filter (where rating in ('Outstanding', 'Good')) as rated_good_or_better,
    count(*) filter (where rating = 'Outstanding') as rated_outstanding,
    count(*) filter (where rating = 'Good') as rated_good,
    count(*) filter (where rating = 'Requires improvement') as rated_requires_improvement,
    count(*) filter (where rating = 'Inadequate') as rated_inadequate,
    count(*) filter (where rating is null) as not_rated
from {{ ref('inspection_league_table') }}
group by framework, organisation_type

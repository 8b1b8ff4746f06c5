-- Probation trust annual performance ratings 2010/11 (PTRS), one row per trust, as published by
-- NOMS on 7 July 2011 (seed 000; docs/methodology.md#ratings "History"). The rating (1-4) is taken
-- as published and labelled from rating_labels (scheme PTRS). Trusts for which a moderation
-- proposal was considered are marked with an asterisk after the name, as the publication prints
-- them.
with ratings as (
    select
        trust_name,
        ndelius_legacy_code_by_name_match,
        cast(ptrs_rating_1to4 as integer) as rating,
        cast(moderation_considered as integer) = 1 as moderation_considered
    from {{ ref('ptrs_2010_11_trust_ratings') }}
),

labels as (
    select cast(rating as integer) as rating, label as rating_label
    from {{ ref('rating_labels') }}
    where scheme = 'PTRS'
)

select
    r.trust_name,
    r.ndelius_legacy_code_by_name_match,
    r.rating,
    l.rating_label,
    r.moderation_considered,
    case when r.moderation_considered then '*' else '' end as moderation_marker,
    r.trust_name || case when r.moderation_considered then '*' else '' end
        as trust_name_as_published
from ratings as r
left join labels as l using (rating)

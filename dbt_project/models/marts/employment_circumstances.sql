-- Employment circumstances 6 weeks and 6 months after release and 6 months after a community
-- disposal: people by status per month, nationally (breakdown NATIONAL, the series since April
-- 2019) and by region, sex, age band, ethnicity, offence and custodial sentence length. Counts
-- are unsuppressed here; publication applies [c] to small counts.
{{ circumstance_breakdowns('EMPLOYMENT') }}

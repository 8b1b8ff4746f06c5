-- The requirements whose cases an incremental refresh recomputes
-- (docs/methodology.md#incremental-refresh): a requirement that changed, or whose unpaid work
-- sessions changed (SL027, SL029, SL033). Empty in a full build.
select requirement_id from {{ ref('int_requirements_changes') }}
union
select requirement_id from {{ ref('int_upw_sessions_changes') }}

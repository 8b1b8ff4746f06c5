-- The upw_sessions records (key: session_id) whose latest state this refresh changed: 'added' rows
-- hold the new state, 'removed' rows the state after the last refresh (DESIGN §11). Empty in a full
-- build.
{{ staging_changes('stg_upw_sessions', 'upw_sessions', 'session_id') }}

-- The persons records (key: crn) whose latest state this refresh changed: 'added' rows hold the new
-- state, 'removed' rows the state after the last refresh (docs/methodology.md#incremental-refresh).
-- Empty in a full build.
{{ staging_changes('stg_persons', 'persons', 'crn') }}

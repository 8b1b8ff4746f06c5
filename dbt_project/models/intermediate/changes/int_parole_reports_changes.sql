-- The parole_reports records (key: report_id) whose latest state this refresh changed: 'added' rows
-- hold the new state, 'removed' rows the state after the last refresh
-- (docs/methodology.md#incremental-refresh). Empty in a full build.
{{ staging_changes('stg_parole_reports', 'parole_reports', 'report_id') }}

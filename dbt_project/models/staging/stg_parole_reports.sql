-- Latest state of each parole_reports record (key: report_id) across every monthly delivery loaded.
{{ latest_per_key('parole_reports', 'report_id') }}

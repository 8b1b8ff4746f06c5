-- Latest state of each employment_checks record (key: check_id) across every monthly delivery loaded.
{{ latest_per_key('employment_checks', 'check_id') }}

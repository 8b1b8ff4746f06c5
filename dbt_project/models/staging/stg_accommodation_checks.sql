-- Latest state of each accommodation_checks record (key: check_id) across every monthly delivery loaded.
{{ latest_per_key('accommodation_checks', 'check_id') }}

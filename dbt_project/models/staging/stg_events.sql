-- Latest state of each events record (key: event_id) across every monthly delivery loaded.
{{ latest_per_key('events', 'event_id') }}

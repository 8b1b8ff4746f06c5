-- Latest state of each upw_sessions record (key: session_id) across every monthly delivery loaded.
{{ latest_per_key('upw_sessions', 'session_id') }}

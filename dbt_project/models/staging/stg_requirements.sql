-- Latest state of each requirements record (key: requirement_id) across every monthly delivery loaded.
{{ latest_per_key('requirements', 'requirement_id') }}

-- Latest state of each handovers record (key: handover_id) across every monthly delivery loaded.
{{ latest_per_key('handovers', 'handover_id') }}

-- Latest state of each recalls record (key: recall_id) across every monthly delivery loaded.
{{ latest_per_key('recalls', 'recall_id') }}

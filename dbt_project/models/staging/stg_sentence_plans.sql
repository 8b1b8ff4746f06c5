-- Latest state of each sentence_plans record (key: plan_id) across every monthly delivery loaded.
{{ latest_per_key('sentence_plans', 'plan_id') }}

-- Latest state of each persons record (key: crn) across every monthly delivery loaded.
{{ latest_per_key('persons', 'crn') }}

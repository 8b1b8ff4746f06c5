-- Latest state of each contacts record (key: contact_id) across every monthly delivery loaded.
{{ latest_per_key('contacts', 'contact_id') }}

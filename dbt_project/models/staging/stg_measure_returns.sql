-- Latest state of each measure_returns record (key: measure_code, region_code, period_month) across
-- every monthly delivery loaded.
{{ latest_per_key('measure_returns', 'measure_code, region_code, period_month') }}

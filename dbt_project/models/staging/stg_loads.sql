-- The load ledger: which landing file (and revision) fed each extract-month, and what it held.
select
    extract,
    month as month_key,
    strptime(month || '-01', '%Y-%m-%d')::date as month,
    source_file,
    source_revision,
    source_sha256,
    rows_delivered,
    rows_loaded,
    rows_set_aside,
    set_aside_by_reason,
    loaded_at
from {{ source('raw', 'loads') }}

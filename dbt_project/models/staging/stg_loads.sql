-- The load ledger: which landing file (and revision) fed each extract-month, what it held, and when
-- it was extracted (from its control file, or the file's modification time, recorded as an
-- assumption). extracted_on is that moment's date in Europe/London, the date
-- docs/methodology.md#measures compares with the close of a case's window. A table, not a view: the
-- warehouse of the last successful refresh keeps the ledger it was built from, which the next
-- refresh compares with (docs/methodology.md#incremental-refresh).
{{ config(materialized="table") }}
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
    loaded_at,
    extracted_at,
    try_cast(extracted_on as date) as extracted_on,
    extracted_at_source
from {{ source('raw', 'loads') }}

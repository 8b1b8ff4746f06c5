-- HMIP inspections as delivered (reference extract, one file): one row per inspection and
-- standard (key inspection_id, standard_code), typed, with the file and line each row came from.
-- Rows that broke a row rule (null required field, duplicate key) were set aside at load.
select
    inspection_id,
    organisation_code,
    organisation_name,
    organisation_type,
    framework,
    published_date::date as published_date,
    standard_code,
    standard_name,
    rating,
    _source_file,
    _source_line
from {{ source('raw', 'inspections') }}

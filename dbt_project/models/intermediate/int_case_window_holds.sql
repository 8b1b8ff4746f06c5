-- What keeps a case provisional (docs/methodology.md#measures): one row per case window (measure,
-- cohort month, closing date) and extract-month that holds it. A case is final once
--   (a) every month from its cohort month through the month its window closes has an accepted
--       delivery of every extract the measure reads (int_measure_sources), the delivery of the
--       closing month extracted after the window closed; and
--   (b) where the measure depends on a field completed later (seed late_completed_fields), the
--       newest accepted delivery of the cohort month was extracted after the window closed.
-- "Extracted after" compares the extraction date in Europe/London (stg_loads.extracted_on)
-- with the closing date. A window with no row here is final. `hold` says why in a few words.
with windows as (
    select distinct
        measure_code,
        month,
        window_end_date,
        date_trunc('month', greatest(window_end_date, month))::date as closing_month
    from {{ ref('int_measure_cases') }}
),

loads as (
    select extract, month, extracted_on
    from {{ ref('stg_loads') }}
),

month_spine as (
    select unnest(generate_series(min(month), max(closing_month), interval 1 month))::date as month
    from windows
),

needed as (
    select w.measure_code, w.month, w.window_end_date, w.closing_month, s.extract,
        spine.month as extract_month
    from windows as w
    inner join {{ ref('int_measure_sources') }} as s on s.measure_code = w.measure_code
    inner join month_spine as spine on spine.month between w.month and w.closing_month
),

coverage_holds as (
    select
        n.measure_code,
        n.month,
        n.window_end_date,
        n.extract,
        n.extract_month,
        case
            when l.extract is null then 'not delivered'
            else 'extracted before the window closed'
        end as hold
    from needed as n
    left join loads as l on l.extract = n.extract and l.month = n.extract_month
    where l.extract is null
       or (
           n.extract_month = n.closing_month
           and not coalesce(l.extracted_on > n.window_end_date, false)
       )
),

late_field_holds as (
    select
        w.measure_code,
        w.month,
        w.window_end_date,
        f.extract,
        w.month as extract_month,
        'awaiting a re-delivery' as hold
    from windows as w
    inner join {{ ref('late_completed_fields') }} as f on f.measure_code = w.measure_code
    inner join loads as l on l.extract = f.extract and l.month = w.month
    where w.closing_month > w.month  -- else (a) already asks the same of the same delivery
      and not coalesce(l.extracted_on > w.window_end_date, false)
)

select
    measure_code,
    month,
    window_end_date,
    extract,
    extract_month,
    hold,
    extract || ' ' || strftime(extract_month, '%Y-%m') || ' ' || hold as hold_label
from (
    select * from coverage_holds
    union
    select * from late_field_holds
)

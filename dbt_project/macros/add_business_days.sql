{#- add_business_days(d, n): the n-th business day strictly after date d (docs/methodology.md#measures).
    When d is not a business day, counting starts at the next business day. business_day_seq
    counts business days up to and including each date, so the answer is the business day whose
    sequence number is d's plus n. A date whose answer falls outside the calendar seed
    (2005-2035) stops the build with one line naming the date: it must never count as a miss. -#}
{% macro add_business_days(date_expr, n_expr) -%}
coalesce(
    (
        select bd_due.calendar_date
        from {{ ref('business_calendar') }} as bd_due
        where bd_due.is_business_day
          and bd_due.business_day_seq = (
              select bd_anchor.business_day_seq
              from {{ ref('business_calendar') }} as bd_anchor
              where bd_anchor.calendar_date = {{ date_expr }}
          ) + ({{ n_expr }})
    ),
    case when {{ date_expr }} is not null then error(
        'business calendar (seed business_calendar, 2005-01-01 to 2035-12-31) cannot count '
        || ({{ n_expr }})::varchar || ' business days after ' || ({{ date_expr }})::varchar
        || ': widen orchestration/business_calendar.py and run make calendar-seed'
    ) end
)
{%- endmacro %}

{#- Incremental refresh (docs/methodology.md#incremental-refresh): what one refresh changes, and the models that update only
    that. The pipeline builds a copy of the warehouse and attaches the warehouse as it was after
    the last successful refresh, read-only, as `previous`
    (orchestration/defs/warehouse.py); the copy replaces the warehouse only when the build
    succeeds, so a killed refresh leaves `previous` as it was and the next one redoes its work.

    - changed_months(extract): the extract's months whose delivery changed since `previous`
      (the load ledger stg_loads names the landing file and its SHA-256 for each month);
    - changed_keys(extract, key): the keys whose latest state can have changed: every key in
      the changed months' files and every key whose latest state came from one of them (the
      revision replaced); for events also every key whose vanished status flips because the
      newest month delivered moved;
    - staging_changes(model, key): the rows of a staging model that changed, old and new
      (lineage columns aside), which the case models turn into the cases to recompute;
    - affected_only(column, model, key) and delete_affected(column, model, key): the filter
      of an incremental case model (only the cases of the affected keys) and its pre-hook,
      which deletes those cases before they are recomputed.

    A first build, a --full-refresh, or a change to the code, seeds or settings since the last
    refresh (the pipeline decides: orchestration/warehouse/incremental.py) rebuilds every model. -#}

{% macro incremental_refresh() -%}
    {#- True in an incremental build of an incremental model; an incremental build run outside
        the pipeline (no `previous` warehouse to compare with) stops with one line. -#}
    {#- a unit test has no relation of its own (`this`): it tests the full build -#}
    {%- if this is none or not is_incremental() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- if not previous_configured() -%}
        {{ exceptions.raise_compiler_error(
            "model " ~ this.identifier ~ " is incremental: build it through the pipeline "
            ~ "(probation-pipeline run), or with dbt build --full-refresh") }}
    {%- endif -%}
    {{ return(true) }}
{%- endmacro %}

{% macro previous_configured() -%}
    {{ return(env_var('PROBATION_PREVIOUS_WAREHOUSE', '') != '' and not flags.FULL_REFRESH) }}
{%- endmacro %}

{% macro changes_wanted() -%}
    {#- Whether this build is incremental (the change models are then filled; in a full build
        they are empty and nothing reads them). -#}
    {{ return(previous_configured() and execute) }}
{%- endmacro %}

{% macro attach_previous_warehouse() -%}
    {%- if previous_configured() -%}
        attach if not exists '{{ env_var("PROBATION_PREVIOUS_WAREHOUSE") | replace("'", "''") }}'
            as previous (read_only)
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{% macro previous(name) -%}
    previous.{{ target.schema }}.{{ name }}
{%- endmacro %}

{% macro changed_months(extract) -%}
    select coalesce(now.month_key, before.month_key) as month_key
    from (
        select month_key, source_file, source_sha256
        from {{ ref('stg_loads') }}
        where extract = '{{ extract }}'
    ) as now
    full join (
        select month_key, source_file, source_sha256
        from {{ previous('stg_loads') }}
        where extract = '{{ extract }}'
    ) as before using (month_key)
    where now.source_file is distinct from before.source_file
       or now.source_sha256 is distinct from before.source_sha256
{%- endmacro %}

{% macro changed_keys(extract, key, model, vanished=false) -%}
    select {{ key }} from {{ source('raw', extract) }}
    where _month in ({{ changed_months(extract) }})
    union
    select {{ key }} from {{ previous(model) }}
    where _month in ({{ changed_months(extract) }})
    {%- if vanished %}
    union
    select {{ key }} from {{ previous(model) }}
    where (_month < (select max(_month) from {{ previous(model) }}))
       <> (_month < (select max(_month) from {{ source('raw', extract) }}))
    {%- endif %}
{%- endmacro %}

{% macro delete_changed_keys(extract, key, model, vanished=false) -%}
    {%- if incremental_refresh() -%}
        delete from {{ this }}
        where {{ key }} in ({{ changed_keys(extract, key, model, vanished) }})
    {%- endif -%}
{%- endmacro %}

{% macro lineage_columns() -%}
    {{ return(['_month', '_source_file', '_source_revision', '_source_line']) }}
{%- endmacro %}

{% macro staging_changes(model, extract, key, vanished=false) -%}
    {#- The rows of staging model `model` that this refresh changed: `added` (its new state)
        and `removed` (its state after the last refresh), lineage columns aside. -#}
    {%- set columns = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(ref(model)) -%}
            {%- if column.name not in lineage_columns() -%}
                {%- do columns.append(adapter.quote(column.name)) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set listed = columns | join(', ') if columns else '*' -%}
    -- depends_on: {{ ref('stg_loads') }}, {{ source('raw', extract) }}
    {%- if changes_wanted() %}
    with keys as (
        {{ changed_keys(extract, key, model, vanished) }}
    ),

    now as (
        select {{ listed }} from {{ ref(model) }} where {{ key }} in (select {{ key }} from keys)
    ),

    before as (
        select {{ listed }} from {{ previous(model) }}
        where {{ key }} in (select {{ key }} from keys)
    )

    select 'added' as change, * from (select * from now except all select * from before)
    union all
    select 'removed' as change, * from (select * from before except all select * from now)
    {%- else %}
    select 'added' as change, {{ listed }} from {{ ref(model) }} where false
    {%- endif %}
{%- endmacro %}

{% macro affected_only(column, affected_model, affected_column) -%}
    {#- In an incremental build, only the rows whose `column` is among the affected keys (the
        model `affected_model`, column `affected_column`); in a full build, every row. -#}
    {%- if incremental_refresh() -%}
        {{ column }} in (select {{ affected_column }} from {{ ref(affected_model) }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{% macro delete_affected(column, affected_model, affected_column) -%}
    {#- The pre-hook of an incremental case model: delete the rows it is about to recompute. -#}
    {%- if incremental_refresh() -%}
        delete from {{ this }} where {{ affected_only(column, affected_model, affected_column) }}
    {%- endif -%}
{%- endmacro %}

{% macro person_month_scope() -%}
    {#- The (crn, month) pairs an incremental build of a person-month measure recomputes, from
        int_affected_person_months: every month of a person whose events changed, the pairs
        named, and every person in a month newly reported; reported months only. -#}
    select a.crn, m.month
    from {{ ref('int_affected_person_months') }} as a
    cross join {{ ref('int_cohort_months') }} as m
    where a.month is null
    union
    select a.crn, a.month
    from {{ ref('int_affected_person_months') }} as a
    inner join {{ ref('int_cohort_months') }} as m on m.month = a.month
    where a.crn is not null
    union
    select e.crn, a.month
    from {{ ref('int_affected_person_months') }} as a
    cross join (select distinct crn from {{ ref('stg_events') }}) as e
    where a.crn is null
{%- endmacro %}

{% macro delete_person_months() -%}
    {#- The pre-hook of an incremental person-month measure (SL007, SL040). -#}
    {%- if incremental_refresh() -%}
        delete from {{ this }} as t
        where exists (
            select 1 from ({{ person_month_scope() }}) as s
            where s.crn = t.case_id and s.month = t.month
        )
    {%- endif -%}
{%- endmacro %}

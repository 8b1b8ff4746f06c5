{#- Target attainment (docs/methodology.md#targets): MET when performance is on the right side of the target for
    the measure's polarity; NEAR_MISS when it misses by no more than the tolerance (in the
    target's own units: 0.03 is 3 percentage points for a proportion); else MISSED. Null when
    there is no performance or no target. A hair of slack (1e-9) keeps a figure that equals a
    boundary on the boundary despite floating point. -#}
{% macro attainment_status(performance, target, polarity, tolerance) -%}
case
    when {{ performance }} is null or {{ target }} is null then null
    when {{ polarity }} = 'LOWER_IS_BETTER' then
        case
            when {{ performance }} <= {{ target }} + 1e-9 then 'MET'
            when {{ performance }} <= {{ target }} + {{ tolerance }} + 1e-9 then 'NEAR_MISS'
            else 'MISSED'
        end
    else
        case
            when {{ performance }} >= {{ target }} - 1e-9 then 'MET'
            when {{ performance }} >= {{ target }} - {{ tolerance }} - 1e-9 then 'NEAR_MISS'
            else 'MISSED'
        end
end
{%- endmacro %}

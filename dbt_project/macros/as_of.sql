{#-
  "Now" for every time-dependent model (late risk, stock as of): var as_of, a naive UTC timestamp the
  orchestrator passes once per run so dbt, dispatch and the snapshot agree on it. Without it (an analyst's
  `dbt build`), the wall clock in UTC. Never the newest order's time: when orders stop arriving, late risk
  must keep growing, not freeze.
-#}
{% macro as_of() -%}
    {%- set value = var('as_of', none) -%}
    {%- if value -%}
        cast('{{ value }}' as timestamp)
    {%- else -%}
        cast(timezone('UTC', now()) as timestamp)
    {%- endif -%}
{%- endmacro %}

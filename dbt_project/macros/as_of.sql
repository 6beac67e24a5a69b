{#-
  "Now" for every time-dependent model (late risk, stock as of): the run's clock, a naive UTC timestamp the
  orchestrator fixes once per run so dbt, dispatch and the snapshot agree on it. The orchestrator writes it to
  pipeline.dbt_clock for the length of its dbt invocation rather than passing it as a var: a var that changes
  every run makes dbt re-parse the whole project every run (seconds per micro-batch), a table row does not.
  var as_of still wins (tests, a replay by hand). Without either (an analyst's `dbt build`), the wall clock in
  UTC. Never the newest order's time: when orders stop arriving, late risk must keep growing, not freeze.
-#}
{% macro as_of() -%}
    {%- set value = var('as_of', none) -%}
    {%- if value -%}
        cast('{{ value }}' as timestamp)
    {%- else -%}
        coalesce((select max(as_of) from pipeline.dbt_clock), cast(timezone('UTC', now()) as timestamp))
    {%- endif -%}
{%- endmacro %}

{% macro create_dbt_clock() -%}
    create schema if not exists pipeline;
    create table if not exists pipeline.dbt_clock (as_of timestamp)
{%- endmacro %}

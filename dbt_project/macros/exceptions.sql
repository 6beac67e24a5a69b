{#-
  fct_exceptions' partitions (the model explains why): the orders the pending batches changed, every oversold
  order (a WMS count resolves an oversell without naming an order), and the delivery orders whose late-risk
  window (from promised_to − late_risk_minutes) the clock crossed since the last build, forwards or back (a replay
  may run an earlier clock). Written down like any incremental model's (macros/incremental.sql, record_touched),
  so the invocation's tests can read them, then deleted, with every out_of_stock row (an oversell that is gone
  leaves its order's row behind otherwise).

  The last build's clock is kept in exceptions_clock(). Without it (the first build since it was kept), every
  open order is rebuilt, as a build whose rows moved with the clock did.
-#}
{% macro exception_orders() -%}
    {%- set window = "to_minutes(" ~ var('late_risk_minutes') ~ ")" -%}
    {{ changed_orders() }}
    union
    select order_key from {{ ref('fct_oversell_events') }}
    union
    select order_key from {{ ref('fct_orders') }}
    where fulfilment_type = 'delivery'
        and promised_to >= (select least(as_of, {{ as_of() }}) from {{ exceptions_clock() }}) + {{ window }}
        and promised_to < (select greatest(as_of, {{ as_of() }}) from {{ exceptions_clock() }}) + {{ window }}
    union
    select order_key from {{ ref('fct_orders') }}
    where not exists (select 1 from {{ exceptions_clock() }})
        and (current_status is null or current_status not in {{ sql_string_list(var('closed_statuses')) }})
{%- endmacro %}

{% macro exceptions_clock() -%}
    pipeline.fct_exceptions__clock
{%- endmacro %}

{% macro create_exceptions_clock() -%}
    create schema if not exists pipeline;
    create table if not exists {{ exceptions_clock() }} (as_of timestamp)
{%- endmacro %}

{#- post-hook: the clock this build's rows were computed at (one row). -#}
{% macro record_exceptions_clock() -%}
    delete from {{ exceptions_clock() }};
    insert into {{ exceptions_clock() }} select {{ as_of() }}
{%- endmacro %}

{#- After record_touched('order_key', exception_orders()) has written them down (the model's first pre-hook). -#}
{% macro delete_exception_partitions() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where exception_type = 'out_of_stock'
            or order_key in (select order_key from {{ touched_table() }})
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

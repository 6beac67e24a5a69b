{#-
  fct_exceptions' partitions (the model explains why): the orders the pending batches changed, the orders still
  open (their late-risk rows move with the clock), and every oversold order (a WMS count resolves an oversell
  without naming an order). Written down like any incremental model's (macros/incremental.sql, record_touched),
  so the invocation's tests can read them, then deleted, with every out_of_stock row (an oversell that is gone
  leaves its order's row behind otherwise).
-#}
{% macro exception_orders() -%}
    {{ changed_orders() }}
    union
    select order_key from {{ ref('fct_orders') }}
    where current_status is null or current_status not in {{ sql_string_list(var('closed_statuses')) }}
    union
    select order_key from {{ ref('fct_oversell_events') }}
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

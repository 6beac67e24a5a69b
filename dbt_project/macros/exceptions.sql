{#-
  fct_exceptions' partitions (the model explains why): the orders the pending batches changed, the delivery
  orders whose late-risk window (from promised_to − late_risk_minutes) the clock crossed since the last build,
  forwards or back (a replay may run an earlier clock), and every out_of_stock row (a WMS count resolves an
  oversell without naming an order). Their orders are written down like any incremental model's
  (macros/incremental.sql, record_touched), so the invocation's tests can read them, then deleted.

  Which orders the model reads back: each part by a bound DuckDB can skip row groups by, not by the touched list
  (a join that reads every row of fct_orders, 0.2 GB a batch at 2M orders). The changed orders are the rows the
  run that consumed the batches wrote (rebuilt_seq: macros/rebuilt_seq.sql), the window's orders their
  promised_to range. An oversold order is touched (its out_of_stock row is rebuilt) but its other rows are not:
  they depend on its own order, checks and the clock, as everyone's do (the `rebuilt` column says which).

  The last build's clock is kept in exceptions_clock(). Without it (the first build since it was kept), every
  open order is rebuilt, as a build whose rows moved with the clock did.
-#}
{#- The delivery orders whose late-risk window the clock crossed since the last build (see above). -#}
{% macro in_crossed_late_risk_window() -%}
    {%- set window = "to_minutes(" ~ var('late_risk_minutes') ~ ")" -%}
    fulfilment_type = 'delivery'
        and promised_to >= (select least(as_of, {{ as_of() }}) from {{ exceptions_clock() }}) + {{ window }}
        and promised_to < (select greatest(as_of, {{ as_of() }}) from {{ exceptions_clock() }}) + {{ window }}
{%- endmacro %}

{#- Every open order, when no build has kept its clock yet. Decided when the hook or model is compiled (it runs
    right after), so a build with a clock does not scan fct_orders' statuses for nothing. -#}
{% macro open_without_a_clock() -%}
    {#- Only in an incremental build: the clock table exists then (on-run-start), and a first build needs no bound. -#}
    {%- if execute and is_incremental()
        and run_query('select count(*) from ' ~ exceptions_clock()).columns[0].values()[0] > 0 -%}
        false
    {%- else -%}
        not exists (select 1 from {{ exceptions_clock() }})
            and (current_status is null or current_status not in {{ sql_string_list(var('closed_statuses')) }})
    {%- endif -%}
{%- endmacro %}

{#- (order_key, rebuilt): the touched orders, and whether the model rebuilds their rows (else only their
    out_of_stock row). -#}
{% macro exception_orders() -%}
    select order_key, bool_or(rebuilt) as rebuilt from (
        select order_key, true as rebuilt from ({{ changed_orders() }})
        union all
        select order_key, true from {{ ref('fct_orders') }} where {{ in_crossed_late_risk_window() }}
        union all
        select order_key, true from {{ ref('fct_orders') }} where {{ open_without_a_clock() }}
        union all
        select order_key, false from {{ ref('fct_oversell_events') }}
    ) as touched
    group by order_key
{%- endmacro %}

{#- The rows of fct_orders whose exceptions the model rebuilds: each part by its own bound (see above). -#}
{% macro orders_with_rebuilt_exceptions() -%}
    select * exclude (rebuilt_seq) from {{ ref('fct_orders') }}
    where {{ in_batch_keys('order_key', 'orders', rebuilt_by='fct_orders') }}
    union
    select * exclude (rebuilt_seq) from {{ ref('fct_orders') }} where {{ in_crossed_late_risk_window() }}
    union
    select * exclude (rebuilt_seq) from {{ ref('fct_orders') }} where {{ open_without_a_clock() }}
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

{#- After record_touched('order_key', exception_orders(), ['rebuilt']) has written them down (the model's first
    pre-hook). -#}
{% macro delete_exception_partitions() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where exception_type = 'out_of_stock'
            or order_key in (select order_key from {{ touched_table() }} where rebuilt)
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

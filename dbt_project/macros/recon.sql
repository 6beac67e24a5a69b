{#-
  Settlement reconciliation is computed per recon date, and each recon date's rows depend only
  on data dated up to that day, so rebuilding any set of days gives the same rows however the days are
  grouped (a 7-day backfill equals 7 daily runs).

  vars recon_date_from / recon_date_to (YYYY-MM-DD, inclusive) choose the days a run rebuilds; they are
  run parameters, not rules, so they may be absent: without them every day that has statements or orders
  is rebuilt. The Dagster partitions pass them (orchestration/assets/finance.py).
-#}

{% macro recon_date_from() -%}
    {{ return(var('recon_date_from', none)) }}
{%- endmacro %}

{% macro recon_date_to() -%}
    {{ return(var('recon_date_to', var('recon_date_from', none))) }}
{%- endmacro %}

{#-
  The recon dates this run builds, as a query with one column `recon_date`: the window when one is given
  and the table exists; otherwise (no window, first build, --full-refresh) every day that has statements or
  orders, so a full refresh never leaves a table holding only the window's days.
-#}
{% macro recon_dates_query(lines_relation, orders_relation) -%}
    {%- if recon_date_from() and is_incremental() -%}
    select cast(day as date) as recon_date
    from range(date '{{ recon_date_from() }}', date '{{ recon_date_to() }}' + interval 1 day, interval 1 day) as days(day)
    {%- else -%}
    select distinct statement_date as recon_date from {{ lines_relation }}
    union
    select distinct business_date as recon_date from {{ orders_relation }}
    {%- endif %}
{%- endmacro %}

{#-
  pre_hook of the incremental finance marts: remove the rows of the days this run rebuilds (all rows
  without a window), so a day with no rows left is emptied too. A first run has nothing to delete.
-#}
{% macro recon_replace_window(date_column) -%}
    {%- if is_incremental() -%}
        {%- if recon_date_from() -%}
    delete from {{ this }} where {{ date_column }} between date '{{ recon_date_from() }}' and date '{{ recon_date_to() }}'
        {%- else -%}
    delete from {{ this }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- A rate from a rules mapping as an exact decimal, so that round(base * rate, 2) rounds half up like the channels. -#}
{% macro recon_rate(rates, key_column) -%}
    case {{ key_column }}
    {%- for key, rate in rates.items() %}
        when '{{ key }}' then cast('{{ rate }}' as decimal(9, 6))
    {%- endfor %}
    end
{%- endmacro %}

{#- Which sales channels' orders each statement channel pays per order. POS is reconciled as totals. -#}
{% macro settlement_coverage() -%}
    select * from (values
        ('meituan', 'meituan'), ('eleme', 'eleme'), ('groupbuy', 'groupbuy'),
        ('wechatpay', 'app'), ('wechatpay', 'miniprogram'), ('alipay', 'app')
    ) as coverage(settlement_channel, sales_channel)
{%- endmacro %}

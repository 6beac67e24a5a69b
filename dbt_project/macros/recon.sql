{#-
  Settlement reconciliation is computed per recon date, and each recon date's rows depend only
  on data dated up to that day, so rebuilding any set of days gives the same rows however the days are
  grouped (a 7-day backfill equals 7 daily runs).

  The days a run rebuilds (inclusive) come from vars recon_date_from / recon_date_to (YYYY-MM-DD) when
  given (a build by hand, the unit tests), else from the row of pipeline.recon_window, which the
  orchestrator writes for its next dbt invocation (Dagster's daily partitions,
  orchestration/defs/reconciliation/assets.py). A row, not vars, for the reason the clock is one
  (macros/as_of.sql): vars that change every run make dbt parse the whole project every run. The row names
  the invocation before it was written (after_seq, pipeline.invocations) and holds for the one invocation
  after that only: a row a killed run left behind is ignored by every later invocation. Neither is a rule, so
  both may be absent: then every day that has statements or orders is rebuilt.
-#}

{#- The window as (first day, last day) strings, or none. Read when the models run (execute), so only from
    the incremental branches below. -#}
{% macro recon_window() -%}
    {%- set first = var('recon_date_from', none) -%}
    {%- if first -%}
        {{ return((first, var('recon_date_to', first))) }}
    {%- endif -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {#- A warehouse last built before the window existed lacks its table, and `dbt compile` runs no on-run-start. -#}
    {%- set present = run_query(
        "select count(*) from duckdb_tables() where database_name = '" ~ target.database ~ "'"
        ~ " and schema_name = 'pipeline' and table_name in ('recon_window', 'invocations')"
    ).columns[0].values()[0] -%}
    {%- if present < 2 -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set rows = run_query(
        "select cast(date_from as varchar), cast(date_to as varchar) from pipeline.recon_window"
        ~ " where after_seq = (select coalesce(max(seq), 0) from pipeline.invocations"
        ~ " where seq < (select max(seq) from pipeline.invocations))"
    ).rows -%}
    {%- if rows | length > 1 -%}
        {{ exceptions.raise_compiler_error(
            "pipeline.recon_window holds " ~ (rows | length) ~ " windows for this invocation: one at most"
        ) }}
    {%- endif -%}
    {{ return((rows[0][0] | string, rows[0][1] | string) if rows else none) }}
{%- endmacro %}

{% macro create_recon_window() -%}
    create schema if not exists pipeline;
    create table if not exists pipeline.recon_window (
        date_from date not null, date_to date not null, after_seq bigint not null
    )
{%- endmacro %}

{#-
  The recon dates this run builds, as a query with one column `recon_date`: the window when one is given
  and the table exists; otherwise (no window, first build, --full-refresh) every day that has statements or
  orders, so a full refresh never leaves a table holding only the window's days.
-#}
{% macro recon_dates_query(lines_relation, orders_relation) -%}
    {%- set window = recon_window() if is_incremental() else none -%}
    {%- if window -%}
    select cast(day as date) as recon_date
    from range(date '{{ window[0] }}', date '{{ window[1] }}' + interval 1 day, interval 1 day) as days(day)
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
        {%- set window = recon_window() -%}
        {%- if window -%}
    delete from {{ this }} where {{ date_column }} between date '{{ window[0] }}' and date '{{ window[1] }}'
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

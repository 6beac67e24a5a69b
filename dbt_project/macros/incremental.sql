{#-
  Incremental marts that rebuild what a micro-batch touched, and only that (docs/decisions.md, "Micro-batches
  that cost what is new").

  Each incremental model keeps its own ledger of the ingest batches it has consumed (pipeline.model_batches:
  model, batch_id), written by its post-hook once its rows are in. A batch it has not consumed is *pending*
  for it. The orders a pending batch changed (a new version in raw.order_history, or a status event in
  raw.order_events) give the model's *partitions* to rebuild: the addresses those orders were ever at (every
  version, so an order moved to another door also leaves its old door's groups), or their business days. The
  pre-hook deletes those partitions and the model's incremental branch computes them whole from all of
  history; the delete and the insert run in the model's transaction.

  Why a ledger per model rather than one watermark: a build that fails half-way (one model done, the next
  not) leaves the finished models with the batch consumed and the others without, and the next run rebuilds
  the partitions each model still owes; recomputing a partition twice gives the same rows, so nothing is
  lost or doubled. Batch ids are compared as a set, not ordered, so a clock step between batches cannot hide
  one.

  A change that is not a batch (a model's SQL, a rule in config/rules.yml, the reference data a model joins
  such as stores, products or promotions) invalidates rows no batch points at: run the full rebuild
  (`orderhub run --full`, or the nightly job) then.
-#}

{#- invocation_id: the dbt invocation that consumed the batch, so the tests of that invocation can read the
    partitions it rebuilt (macros/batch_scope.sql); added to ledgers written before it existed. -#}
{% macro create_model_batches() -%}
    create schema if not exists pipeline;
    create table if not exists pipeline.model_batches (model varchar, batch_id varchar, invocation_id varchar);
    alter table pipeline.model_batches add column if not exists invocation_id varchar
{%- endmacro %}

{% macro pending_batches() -%}
    select batch_id from {{ source('raw', 'ingest_batches') }}
    except
    select batch_id from pipeline.model_batches where model = '{{ this.identifier }}'
{%- endmacro %}

{#- `batches`: a query or literal list of batch ids; by default the batches this model has not consumed yet,
    read from the invocation's key list when there is one (macros/batch_keys.sql). -#}
{% macro changed_orders(batches=none) -%}
    {%- set literals = batch_keys()['orders'] if batches is none and is_incremental() else none -%}
    {%- if literals is not none -%}
        {{ return(keys_query('order_key', literals)) }}
    {%- endif -%}
    {%- set batches = batches or pending_batches() -%}
    select order_key from {{ source('raw', 'order_history') }} where batch_id in ({{ batches }})
    union
    select order_key from {{ source('raw', 'order_events') }} where batch_id in ({{ batches }})
{%- endmacro %}

{% macro touched_addresses(batches=none) -%}
    {%- set literals = batch_keys()['addresses'] if batches is none and is_incremental() else none -%}
    {%- if literals is not none -%}
        {{ return(keys_query('address_key', literals)) }}
    {%- endif -%}
    select distinct address_key
    from {{ source('raw', 'order_history') }}
    where address_key is not null and order_key in ({{ changed_orders(batches) }})
{%- endmacro %}

{% macro touched_business_days() -%}
    select distinct {{ business_date('created_at') }} as business_date
    from {{ source('raw', 'order_history') }}
    where {{ in_batch_order_history() }}
{%- endmacro %}

{#- The partitions a run rebuilds, written down once (with the dbt invocation) where the delete and the
    invocation's own tests (macros/batch_scope.sql) read them: computing them from the raw history costs about a
    second at 600k orders, reading them back nothing. -#}
{% macro touched_table() -%}
    pipeline.{{ this.identifier }}__touched
{%- endmacro %}

{#- A bound on a raw UTC timestamp that holds every instant of the touched business days (the touched table
    written): business_date is computed, so a filter on it reads every order's created_at, while this one lets
    DuckDB skip the row groups of other days (rows arrive roughly in time order). A day either side covers any
    time zone's offset from UTC; business_date itself still decides. -#}
{% macro created_within_touched_days(column) -%}
    {{ column }} >= (select min(business_date) from {{ touched_table() }}) - interval 1 day
    and {{ column }} < (select max(business_date) from {{ touched_table() }}) + interval 2 day
{%- endmacro %}

{#- Write down the partitions this run rebuilds: delete_touched's first step; a hook of its own for a Python
    model, which deletes in its own code (a post-hook, before mark_batches_consumed: until then the batches are
    still pending). `carried`: more columns of `touched` to keep beside the partition (one value per partition). -#}
{% macro record_touched(partition_column, touched, carried=[]) -%}
    {%- if is_incremental() -%}
        create or replace table {{ touched_table() }} as
        select distinct {{ ([partition_column] + carried) | join(', ') }}, '{{ invocation_id }}' as invocation_id
        from ({{ touched }}) as touched
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- pre-hook: write down and delete the partitions this run rebuilds (nothing on a full build: the table is
    new). -#}
{% macro delete_touched(partition_column, touched) -%}
    {%- if is_incremental() -%}
        {{ record_touched(partition_column, touched) }};
        {%- set kind = {'order_key': 'orders', 'address_key': 'addresses'}.get(partition_column) -%}
        {%- set literals = batch_keys()[kind] if kind else none %}
        delete from {{ this }}
        where
        {%- if literals is none %}
            {{ partition_column }} in (select {{ partition_column }} from {{ touched_table() }})
        {%- elif literals == '' %}
            false
        {%- else %}
            {{ partition_column }} in ({{ literals }})
        {%- endif %}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- post-hook: the batches this build consumed. -#}
{% macro mark_batches_consumed() -%}
    insert into pipeline.model_batches (model, batch_id, invocation_id)
    select '{{ this.identifier }}', batch_id, '{{ invocation_id }}' from ({{ pending_batches() }})
{%- endmacro %}

{#- The merge chain (groups → items → parcels) is partitioned by address while the merge key includes the
    address and the window is fixed; otherwise a group can span addresses or read other days, and the chain is
    rebuilt whole every run. -#}
{% macro merges_by_address() -%}
    {{ return('address_key' in var('merge_required_keys') and not var('merge_dynamic_window')['enabled']) }}
{%- endmacro %}

{#- The stock ledger (fct_stock_position_history) is partitioned by count period: (store_id, sku_id,
    snapshot_at), the movements measured from one WMS count. Counts and goods movements are reference rows
    without a batch id (a re-sent file replaces them by key), so what is new there is found by comparing raw
    against what the model's table holds: a count or goods movement in one and not the other (new, changed
    or gone) touches its period. The table is read before the pre-hook deletes anything, hence the touched
    periods are written down first (touched_stock_periods_table) and every later step reads that, the
    invocation's tests included (they know their rows by invocation_id: macros/batch_scope.sql). -#}
{% macro touched_stock_periods_table() -%}
    {{ touched_table() }}
{%- endmacro %}

{% macro touched_stock_periods() -%}
    with counts as (
        select store_id, sku_id, snapshot_at, on_hand from {{ ref('stg_raw__stock_snapshots') }}
    ),

    -- A changed order's lines where they are now, and where the table has them: a new version that moved
    -- the order to another store or changed its lines, or a cancellation, changes the period it was in as
    -- well as the one it is in now.
    changed_lines as (
        select orders.store_id, lines.sku_id, orders.created_at
        from {{ ref('stg_raw__orders') }} as orders
        inner join {{ ref('stg_raw__order_lines') }} as lines on lines.order_key = orders.order_key
        where {{ in_batch_keys('orders.order_key', 'orders') }} and {{ in_batch_order_lines('lines') }}
    ),

    order_periods as (
        select counts.store_id, counts.sku_id, counts.snapshot_at
        from changed_lines
        asof inner join counts
            on changed_lines.store_id = counts.store_id
            and changed_lines.sku_id = counts.sku_id
            and changed_lines.created_at >= counts.snapshot_at
        union
        select store_id, sku_id, snapshot_at
        from {{ this }}
        where {{ in_batch_keys('order_key', 'orders') }}
    ),

    built_counts as (
        select store_id, sku_id, snapshot_at, quantity_change as on_hand
        from {{ this }}
        where movement_kind = 'snapshot'
    ),

    changed_counts as (
        (select * from counts except select * from built_counts)
        union
        (select * from built_counts except select * from counts)
    ),

    -- A count that came, went or was corrected rebuilds its own period and the one before it: the movements
    -- after it move into or out of that period, which also starts or stops being the current one.
    count_periods as (
        select store_id, sku_id, snapshot_at from changed_counts
        union
        select counts.store_id, counts.sku_id, counts.snapshot_at
        from changed_counts
        asof inner join counts
            on changed_counts.store_id = counts.store_id
            and changed_counts.sku_id = counts.sku_id
            and changed_counts.snapshot_at > counts.snapshot_at
    ),

    -- Goods movements before their store/SKU's first count belong to no period; they show up once a count
    -- does, through count_periods.
    goods as (
        select
            goods.movement_id as stock_movement_id,
            goods.movement_type as movement_kind,
            goods.quantity_change,
            goods.moved_at as movement_at,
            counts.store_id,
            counts.sku_id,
            counts.snapshot_at
        from {{ ref('stg_raw__stock_movements') }} as goods
        asof inner join counts
            on goods.store_id = counts.store_id
            and goods.sku_id = counts.sku_id
            and goods.moved_at >= counts.snapshot_at
    ),

    built_goods as (
        select stock_movement_id, movement_kind, quantity_change, movement_at, store_id, sku_id, snapshot_at
        from {{ this }}
        where stock_movement_id is not null
    ),

    goods_periods as (
        select store_id, sku_id, snapshot_at from (select * from goods except select * from built_goods)
        union
        select store_id, sku_id, snapshot_at from (select * from built_goods except select * from goods)
    )

    select store_id, sku_id, snapshot_at from order_periods
    union
    select store_id, sku_id, snapshot_at from count_periods
    union
    select store_id, sku_id, snapshot_at from goods_periods
{%- endmacro %}

{#- pre-hooks of the stock ledger: write down the touched periods, then delete them. -#}
{% macro record_touched_stock_periods() -%}
    {%- if is_incremental() -%}
        create or replace table {{ touched_stock_periods_table() }} as
        select store_id, sku_id, snapshot_at, '{{ invocation_id }}' as invocation_id
        from ({{ touched_stock_periods() }})
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{% macro delete_touched_stock_periods() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where (store_id, sku_id, snapshot_at) in (
            select store_id, sku_id, snapshot_at from {{ touched_stock_periods_table() }}
        )
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- fct_oversell_events rebuilds the count periods the stock ledger rebuilt in this invocation (the ledger's
    touched table, by invocation id), and deletes them with the ledger's own hook (delete_touched_stock_periods,
    which reads the model's touched table). An invocation that builds the oversells without the ledger cannot know
    which periods the ledger changed since it last ran, so it rebuilds them all. -#}
{% macro record_oversell_periods() -%}
    {%- if is_incremental() -%}
        {%- set ledger = ref('fct_stock_position_history') -%}
        create or replace table {{ touched_table() }} as
        {%- if _built_in_this_invocation('fct_stock_position_history') %}
        select store_id, sku_id, snapshot_at, '{{ invocation_id }}' as invocation_id
        from pipeline.{{ ledger.identifier }}__touched
        where invocation_id = '{{ invocation_id }}'
        {%- else %}
        select distinct store_id, sku_id, snapshot_at, '{{ invocation_id }}' as invocation_id
        from {{ ledger }}
        {%- endif %}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{% macro _built_in_this_invocation(model_name) -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.name == model_name -%}
            {{ return(selected_in_this_invocation(node)) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(false) }}
{%- endmacro %}

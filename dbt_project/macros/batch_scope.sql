{#-
  The key and invariant tests a micro-batch keeps (orchestration/defs/transform/cadence.py) read the
  partitions that micro-batch rebuilt, not whole tables: their cost follows what arrived, not what history
  holds. Everywhere else (the nightly full rebuild, the hourly checks job, an analyst's `dbt build`) every test
  reads the whole table.

  Which invocation is a micro-batch: the orchestrator keeps a row in pipeline.dbt_test_scope for the length of
  that dbt invocation (as it does the clock: macros/as_of.sql); a var would change every run and make dbt
  re-parse the project. A full refresh is never scoped, whatever the table says.

  What it rebuilt: each incremental model's pre-hook writes down the partitions it deletes and rebuilds, with
  the dbt invocation (pipeline.<model>__touched, macros/incremental.sql): its touched orders, addresses or
  count periods. A raw table's (or staging view's) keys read the orders (or statement days) of the batches this invocation
  consumed (pipeline.model_batches records the invocation; the invocation's literal key list where there is
  one, bounded by their versions' batches where the table declares `meta.batch_bounded`:
  raw_orders_of_this_invocation). A model or raw table declares its partition once, as `meta.batch_partition` in
  its yml:

  | batch_partition | the rows a micro-batch's test reads |
  |---|---|
  | order | order_key among the orders the model rebuilt (a raw table: the batches changed) |
  | address | address_key among the addresses the model rebuilt |
  | count_period | (store_id, sku_id, snapshot_at) among the count periods the stock ledger rebuilt |
  | business_day | business_date among the local business days the model rebuilt |
  | statement_day | (channel, statement_date) among the statement days of the batches' lines (raw only) |

  Without the declaration, or for a model this build made whole (not incremental, or the merge chain when it
  cannot be cut by address: merges_by_address()), the test reads the whole table. A key that identifies a row
  lies inside one partition (the partition column is part of the key or decides it), so a duplicate the batch
  made is inside the rows read; a raw table's new row and the older row it would duplicate share their order
  or statement day.
-#}

{% macro create_test_scope() -%}
    create schema if not exists pipeline;
    create table if not exists pipeline.dbt_test_scope (scope varchar);
    create table if not exists pipeline.compaction (merged_at timestamp, deferred boolean)
{%- endmacro %}

{#-
  Whether this invocation's checkpoints merge small row groups: the orchestrator decides once per run
  (orchestration/compaction.py) and keeps it in pipeline.compaction; a micro-batch between merging runs
  leaves them. DuckDB's setting is the database's, so it holds for every connection until dbt closes the
  file. Anything else (a full refresh, a build by hand, the checks job) merges.
-#}
{% macro compaction_for_invocation() -%}
    {%- if execute and not flags.FULL_REFRESH -%}
        {%- set deferred = run_query(
            "select count(*) from pipeline.dbt_test_scope where scope = 'micro_batch'"
            ~ " and exists (select 1 from pipeline.compaction where deferred)"
        ) -%}
        {%- if deferred.columns[0].values()[0] > 0 -%}
            {{ return("set max_vacuum_tasks = 0") }}
        {%- endif -%}
    {%- endif -%}
    {{ return("reset max_vacuum_tasks") }}
{%- endmacro %}

{#- Read when a test is compiled, which dbt does as the test runs, so after the models it follows. -#}
{% macro tests_scoped_to_batches() -%}
    {%- if not execute or flags.FULL_REFRESH -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set found = run_query(
        "select count(*) from duckdb_tables() where schema_name = 'pipeline' and table_name = 'dbt_test_scope'"
    ) -%}
    {%- if found.columns[0].values()[0] == 0 -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set rows = run_query("select count(*) from pipeline.dbt_test_scope") -%}
    {{ return(rows.columns[0].values()[0] > 0) }}
{%- endmacro %}

{#- The batches any model consumed in this invocation. -#}
{% macro batches_of_this_invocation() -%}
    select batch_id from pipeline.model_batches where invocation_id = '{{ invocation_id }}'
{%- endmacro %}

{#- A predicate on `relation`'s rows (columns qualified by `alias` when given): in the partitions of kind
    `partition` that `models` rebuilt in this invocation (the sets their pre-hooks wrote down), or, for a raw
    table or staging view (no `models`), that this invocation's batches changed. -#}
{% macro batch_partition_predicate(partition, models=none, relation=none, alias=none, bounded=false) -%}
    {%- set prefix = alias ~ '.' if alias else '' -%}
    {%- set columns = {
        'order': ['order_key'], 'address': ['address_key'], 'count_period': ['store_id', 'sku_id', 'snapshot_at'],
        'business_day': ['business_date'],
    }.get(partition) -%}
    {%- if models and columns -%}
        {%- set touched = [] -%}
        {%- for model in models -%}
            {%- do touched.append(
                "select " ~ columns | join(', ') ~ " from pipeline." ~ model ~ "__touched"
                ~ " where invocation_id = '" ~ invocation_id ~ "'") -%}
        {%- endfor -%}
        ({{ prefix }}{{ columns | join(', ' ~ prefix) }}) in ({{ touched | join(' union ') }})
    {%- elif not models and partition == 'order' -%}
        {{ raw_orders_of_this_invocation(prefix, bounded) }}
    {%- elif not models and partition == 'statement_day' and relation is not none -%}
        ({{ prefix }}channel, {{ prefix }}statement_date) in (
            select channel, statement_date from {{ relation }} where batch_id in ({{ batches_of_this_invocation() }})
        )
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "meta batch_partition '" ~ partition ~ "' is not one of order, address, count_period, business_day (a model) or "
            ~ "order, statement_day (a raw table or staging view): see macros/batch_scope.sql") }}
    {%- endif -%}
{%- endmacro %}

{#- A raw table's rows of the orders this invocation's batches changed: the invocation's literal key list
    (macros/batch_keys.sql; the same orders, looked up once), which raw.orders' primary key index serves, and
    for a table whose rows carry one of their order's versions' batches (meta batch_bounded: the lines, the
    events), those batches too, so the other batches' row groups are skipped: a row of these orders left
    behind by any version, which a duplicate would be, is still read. Without a literal list, the orders of
    the batches the models recorded, by subquery (every row of the table is probed). -#}
{% macro raw_orders_of_this_invocation(prefix, bounded) -%}
    {%- set keys = batch_keys() -%}
    {%- if keys['orders'] is none or not keys['batches'] -%}
        {{ prefix }}order_key in ({{ changed_orders(batches_of_this_invocation()) }})
    {%- else -%}
        {{ prefix }}order_key in ({{ keys['orders'] or 'null' }})
        {%- if bounded and keys['current_batches'] and keys['history_batches'] %}
            and {{ prefix }}batch_id in ({{ keys['current_batches'] }}, {{ keys['history_batches'] }})
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- The model or raw table node `relation` was built from (none for anything else). -#}
{% macro batch_scope_node(relation) -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.alias == relation.identifier and node.schema == relation.schema -%}
            {{ return(node) }}
        {%- endif -%}
    {%- endfor -%}
    {%- for node in graph.sources.values() -%}
        {%- if node.identifier == relation.identifier and node.schema == relation.schema -%}
            {{ return(node) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro %}

{#- The predicate a generic test's rows get in a micro-batch, or none when it reads the whole table. -#}
{% macro batch_scope_of(relation) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set node = batch_scope_node(relation) -%}
    {%- set partition = (node.config.meta or {}).get('batch_partition') if node is not none else none -%}
    {%- if partition is none or (partition == 'address' and not merges_by_address())
        or not tests_scoped_to_batches() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if node.resource_type == 'source' or node.config.materialized == 'view' -%}
        {#- Raw rows as loaded (a staging view reads them as they are): any model's batches of this invocation. -#}
        {{ return(batch_partition_predicate(partition, relation=relation,
            bounded=(node.config.meta or {}).get('batch_bounded', false))) }}
    {%- elif node.config.materialized == 'incremental' -%}
        {{ return(batch_partition_predicate(partition, models=[node.alias], relation=relation)) }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}

{#- For a singular test: the predicate that keeps the partitions `models` rebuilt in a micro-batch, the same
    for every model the test reads so its joins stay whole; `true` outside a micro-batch, or when one of the
    models was built whole. -#}
{% macro batch_scope(partition, models, alias=none) -%}
    {%- if (partition == 'address' and not merges_by_address()) or not tests_scoped_to_batches() -%}
        true
    {%- else -%}
        {%- set incremental = [] -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type == 'model' and node.name in models and node.config.materialized == 'incremental' -%}
                {%- do incremental.append(node.name) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if incremental | length == models | length -%}
            {{ batch_partition_predicate(partition, models=models, alias=alias) }}
        {%- else -%}
            true
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- dbt's hook for a generic test's rows (the `where` config), extended with the micro-batch's scope. -#}
{% macro get_where_subquery(relation) -%}
    {%- set filters = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do filters.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set scope = batch_scope_of(relation) -%}
    {%- if scope -%}
        {%- do filters.append('(' ~ scope ~ ')') -%}
    {%- endif -%}
    {%- if filters -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ filters | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- else -%}
        {{ return(relation) }}
    {%- endif -%}
{%- endmacro %}

{#-
  The keys a micro-batch rebuilds, as literal lists read once per dbt invocation (docs/decisions.md, "The
  incremental marts filter by literal key lists").

  Why literals: DuckDB pushes `order_key in ('a', 'b', …)` into the scan of a large table (the rows of other
  orders are skipped a row group at a time), while `order_key in (select …)` is a semi-join that reads the
  whole table. At 600k orders every incremental model paid that scan once or more per micro-batch.

  Why once per invocation: one model at a time looking its keys up cost a round trip per model and per list
  (about 2 s per micro-batch, whatever its size). batch_keys() looks them up on its first call in the
  invocation (three small queries) and keeps them in dbt's `graph`, the one dict every node of the invocation
  is rendered with, under the invocation's id (a kept manifest serves the next invocation too).

  Which batches: those that at least one incremental model selected in this invocation has not consumed
  (pipeline.model_batches, macros/incremental.sql). Every such model rebuilds the partitions of that union:
  normally each model owes exactly those batches; after a run that failed half-way some models owe fewer, and
  rebuilding a partition that is already right gives the same rows.

  Large sets (a model built for the first time over existing batches, a backlog of many batches) are not
  worth a literal list: above max_literal_keys, the lists are none and each model reads its own pending
  partitions with the subquery of macros/incremental.sql, as before.
-#}

{% macro max_literal_keys() -%}
    {{ return(var('batch_keys_max_literal', 20000)) }}
{%- endmacro %}

{#- Whether this dbt invocation builds `node` (no selection: it builds everything). -#}
{% macro selected_in_this_invocation(node) -%}
    {{ return(not selected_resources or node.unique_id in selected_resources) }}
{%- endmacro %}

{#- The incremental models that keep a batch ledger and run in this invocation. -#}
{% macro ledger_models() -%}
    {%- set models = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.config.materialized == 'incremental'
            and 'mark_batches_consumed' in (node.config.get('post-hook', []) | map(attribute='sql') | join(' '))
            and selected_in_this_invocation(node) -%}
            {%- do models.append(node.alias) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(models | sort) }}
{%- endmacro %}

{#- One query that renders a column as a SQL literal list ('a', 'b'), or none beyond max_literal_keys. -#}
{% macro _literal_list(column, query) -%}
    {%- set rows = run_query(
        "select /* batch key lists */ count(*), case when count(*) <= " ~ max_literal_keys() ~ " then coalesce(string_agg("
        ~ "'''' || replace(" ~ column ~ ", '''', '''''') || '''', ', ' order by " ~ column ~ "), '') end "
        ~ "from (" ~ query ~ ")"
    ) -%}
    {%- set row = rows.rows[0] -%}
    {{ return({'count': row[0], 'literals': row[1]}) }}
{%- endmacro %}

{#- Per column of `query`, its distinct non-null values as a literal list, or none beyond max_literal_keys. -#}
{% macro _literal_lists(columns, query) -%}
    {%- set selects = [] -%}
    {%- for column in columns -%}
        {%- do selects.append("case when count(distinct " ~ column ~ ") <= " ~ max_literal_keys()
            ~ " then coalesce(string_agg(distinct '''' || replace(" ~ column ~ ", '''', '''''') || '''', ', '), '') end") -%}
    {%- endfor -%}
    {%- set row = run_query("select /* batch key lists */ " ~ selects | join(', ') ~ " from (" ~ query ~ ")").rows[0] -%}
    {%- set lists = {} -%}
    {%- for column in columns -%}
        {%- do lists.update({column: row[loop.index0]}) -%}
    {%- endfor -%}
    {{ return(lists) }}
{%- endmacro %}

{#- Of some batch lists, those worth a bound, the others none. Rows are skipped a row group at a time, and a
    list whose batches hold much of history skips little: one old order (a refund of last month) loaded by a
    replayed day's large batch brings that day's row groups back, and then the batch filter only costs more than
    the key list alone (10-30% at 600k orders, bench/bounded_reads.py). The share of loaded records is read from
    the batch ledger (one row per batch and channel), in one query for all the lists. -#}
{% macro _bounding_batches(lists) -%}
    {%- set names = lists.keys() | list | sort -%}
    {%- set shares = [] -%}
    {%- for name in names -%}
        {%- do shares.append(("sum(loaded) filter (where batch_id in (" ~ lists[name] ~ ")) / nullif(sum(loaded), 0)")
            if lists[name] else "null") -%}
    {%- endfor -%}
    {%- set row = run_query("select " ~ shares | join(', ') ~ " from " ~ source('raw', 'ingest_batches')).rows[0] -%}
    {%- set kept = {} -%}
    {%- for name in names -%}
        {%- set share = row[loop.index0] -%}
        {%- do kept.update({name: lists[name] if share is not none and share <= var('batch_bound_max_share', 0.5) else none}) -%}
    {%- endfor -%}
    {{ return(kept) }}
{%- endmacro %}

{#- {'orders', 'addresses': literals or none}: the changed orders and touched addresses of the invocation's
    pending batches ('' when there are none); 'current_batches' and 'history_batches': the batches of those
    orders' current rows and of every version of them, none where they would not bound a read
    (in_batch_order_lines, in_batch_order_history). -#}
{% macro batch_keys() -%}
    {%- set kept = graph.get('orderhub_batch_keys') -%}
    {%- if kept and kept['invocation_id'] == invocation_id -%}
        {{ return(kept) }}
    {%- endif -%}
    {%- set keys = {'invocation_id': invocation_id, 'orders': none, 'addresses': none, 'current_batches': none,
        'history_batches': none, 'batches': none, 'batch_count': 0} -%}
    {%- set models = ledger_models() -%}
    {%- if execute and models -%}
        {%- set batches = _literal_list('batch_id',
            "select batch_id from " ~ source('raw', 'ingest_batches')
            ~ " except select batch_id from pipeline.model_batches where model in " ~ sql_string_list(models)
            ~ " group by batch_id having count(distinct model) = " ~ models | length) -%}
        {%- if batches['literals'] is not none -%}
            {%- do keys.update({'batches': batches['literals'], 'batch_count': batches['count']}) -%}
            {%- set orders = _literal_list('order_key', changed_orders(batches['literals'] or 'null')) -%}
            {%- do keys.update({'orders': orders['literals']}) -%}
        {%- endif -%}
        {%- if keys['orders'] is not none -%}
            {%- set of_orders = (("order_key in (" ~ keys['orders'] ~ ")") if keys['orders'] else "false") -%}
            {#- One read of the history gives both: the doors every version was at, and every version's batch. -#}
            {%- set history = _literal_lists(['address_key', 'batch_id'],
                "select address_key, batch_id from " ~ source('raw', 'order_history') ~ " where " ~ of_orders) -%}
            {%- set current = _literal_list('batch_id',
                "select distinct batch_id from " ~ source('raw', 'orders') ~ " where " ~ of_orders) -%}
            {%- do keys.update({'addresses': history['address_key']}) -%}
            {%- do keys.update(_bounding_batches({'history_batches': history['batch_id'],
                'current_batches': current['literals']})) -%}
        {%- endif -%}
    {%- endif -%}
    {%- if execute -%}
        {%- do graph.update({'orderhub_batch_keys': keys}) -%}
    {%- endif -%}
    {{ return(keys) }}
{%- endmacro %}

{#- `column in (<the batch's keys of kind 'orders' or 'addresses'>)`: a literal list when there is one, else
    the model's own pending partitions as a subquery; `true` when the model is built whole. `rebuilt_by`: the
    model the rows are read from carries rebuilt_seq, so the rows it rebuilt before can be skipped
    (macros/rebuilt_seq.sql). `bounded_by`: (a batch list of batch_keys(), the rows' batch column), so the rows
    of other batches can be skipped (in_batch_order_lines, in_batch_order_history). -#}
{% macro in_batch_keys(column, kind, rebuilt_by=none, bounded_by=none) -%}
    {%- set literals = batch_keys()[kind] if is_incremental() else none -%}
    {%- if not is_incremental() -%}
        true
    {%- elif literals is none -%}
        {{ column }} in ({{ changed_orders() if kind == 'orders' else touched_addresses() }})
    {%- elif literals == '' -%}
        false
    {%- else -%}
        {{ column }} in ({{ literals }})
        {%- if rebuilt_by %} and rebuilt_seq >= {{ rebuilt_since(rebuilt_by) }}{% endif -%}
        {%- set batches = batch_keys()[bounded_by[0]] if bounded_by else none -%}
        {%- if batches %} and {{ bounded_by[1] }} in ({{ batches }}){% endif -%}
    {%- endif -%}
{%- endmacro %}

{#- `in_batch_keys('order_key', 'orders')` for a read of the orders' current lines (raw.order_lines or its
    staging view; `alias`: the relation's alias in the query), bounded by the batches of the versions those lines
    are. The rows are the same: an order's lines always carry the batch of its current row in raw.orders (the
    loader writes and replaces them together; tests/assert_order_lines_carry_their_version_batch.sql), and the
    list is read once per invocation from raw.orders, which nothing writes while dbt runs. What it saves: the
    keys of a batch lie in every row group of a large table, so the key list alone skips none, while rows are
    appended in batch order, so a few batches' rows sit in a few row groups (at 30M rows: 0.85 s for a key-list
    read, 0.06 s with the batch list). raw.orders itself is read by key alone: its primary key's index serves
    a short key list, and a second filter turns that into a scan (0.03 s against 0.4 s at 8M orders). -#}
{% macro in_batch_order_lines(alias=none) -%}
    {%- set prefix = (alias ~ '.') if alias else '' -%}
    {{ in_batch_keys(prefix ~ 'order_key', 'orders', bounded_by=('current_batches', prefix ~ 'batch_id')) }}
{%- endmacro %}

{#- The same for a read of every version's rows of the batch's orders (raw.order_history) or of their events
    (raw.order_events): bounded by the batches of every version of those orders. An event arrives with the
    version that stated it and is stamped with that version's batch (a repeat keeps the first one's), so its
    batch is one of the order's versions' (tests/assert_order_events_come_with_their_version.sql). -#}
{% macro in_batch_order_history(alias=none) -%}
    {%- set prefix = (alias ~ '.') if alias else '' -%}
    {{ in_batch_keys(prefix ~ 'order_key', 'orders', bounded_by=('history_batches', prefix ~ 'batch_id')) }}
{%- endmacro %}

{#- The same keys as a query with one column, for a FROM or a join. -#}
{% macro keys_query(column, literals) -%}
    {%- if literals == '' -%}
        select null::varchar as {{ column }} where false
    {%- else -%}
        select unnest([{{ literals }}]::varchar []) as {{ column }}
    {%- endif -%}
{%- endmacro %}

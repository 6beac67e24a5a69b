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
        "select count(*), case when count(*) <= " ~ max_literal_keys() ~ " then coalesce(string_agg("
        ~ "'''' || replace(" ~ column ~ ", '''', '''''') || '''', ', ' order by " ~ column ~ "), '') end "
        ~ "from (" ~ query ~ ")"
    ) -%}
    {%- set row = rows.rows[0] -%}
    {{ return({'count': row[0], 'literals': row[1]}) }}
{%- endmacro %}

{#- {'orders': literals or none, 'addresses': literals or none}: the changed orders and touched addresses of
    the invocation's pending batches ('' when there are none). -#}
{% macro batch_keys() -%}
    {%- set kept = graph.get('orderhub_batch_keys') -%}
    {%- if kept and kept['invocation_id'] == invocation_id -%}
        {{ return(kept) }}
    {%- endif -%}
    {%- set keys = {'invocation_id': invocation_id, 'orders': none, 'addresses': none, 'batches': none, 'batch_count': 0} -%}
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
            {%- set addresses = _literal_list('address_key',
                "select distinct address_key from " ~ source('raw', 'order_history')
                ~ " where address_key is not null and "
                ~ (("order_key in (" ~ keys['orders'] ~ ")") if keys['orders'] else "false")) -%}
            {%- do keys.update({'addresses': addresses['literals']}) -%}
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
    (macros/rebuilt_seq.sql). -#}
{% macro in_batch_keys(column, kind, rebuilt_by=none) -%}
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
    {%- endif -%}
{%- endmacro %}

{#- The same keys as a query with one column, for a FROM or a join. -#}
{% macro keys_query(column, literals) -%}
    {%- if literals == '' -%}
        select null::varchar as {{ column }} where false
    {%- else -%}
        select unnest([{{ literals }}]::varchar []) as {{ column }}
    {%- endif -%}
{%- endmacro %}

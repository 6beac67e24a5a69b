{#-
  Which rows of an address-partitioned table a micro-batch rebuilt, in a form DuckDB can skip row groups by
  (docs/decisions.md, "Rows carry the invocation that rebuilt them").

  The merge chain (int_merging__merge_groups → int_parcels__items → int_parcels__assignments → the parcels) is
  partitioned by address, and each model reads its upstream's rows at the touched addresses:
  `address_key in ('…', …)`. A batch's addresses lie in every row group, so each such read scanned the whole
  upstream: at 4.6M orders 11M assignment rows, 2-4 s a read (bench/results/scale.md). So every row of these
  tables carries rebuilt_seq, the number of the dbt invocation that wrote it (pipeline.invocations: one number
  per invocation, from a sequence, in the order they ran; not a clock, which can step back), and a reader adds
  `rebuilt_seq >= rebuilt_since(upstream)`. Rows are appended, so DuckDB skips every row group written before.
  The same holds for an incremental model read by the batch's own keys: the current statuses and the price
  options (by order, read by fct_orders and fct_order_price_checks), and fct_orders (read by fct_exceptions; a
  mart, so ClickHouse leaves the column out: history/schema.py). Not for a read of other keys (the merge groups'
  statuses of every order at a door: most were not rebuilt).

  Why no needed row is skipped: every address in the invocation's key list comes from one of its listed
  batches (macros/batch_keys.sql), and the upstream rebuilt every address of a batch, whole, in the invocation
  that consumed that batch (its ledger, pipeline.model_batches). A row at such an address was written then or
  in a later invocation: its number is at least the lowest number among the invocations in which the upstream
  consumed the listed batches. When the upstream has not consumed them all, or the keys are not a literal list,
  the bound is 0 and every row is read, as before.
-#}

{#- on-run-start: this invocation's number. DuckDB allows one writer, so the newest number is this invocation's
    for as long as it runs. -#}
{% macro create_invocations() -%}
    create schema if not exists pipeline;
    create sequence if not exists pipeline.invocation_seq;
    create table if not exists pipeline.invocations (invocation_id varchar, seq bigint);
    insert into pipeline.invocations
    select '{{ invocation_id }}', nextval('pipeline.invocation_seq')
    where not exists (select 1 from pipeline.invocations where invocation_id = '{{ invocation_id }}')
{%- endmacro %}

{#- The rebuilt_seq of the rows this invocation writes. -#}
{% macro this_rebuild_seq() -%}
    (select max(seq) from pipeline.invocations)
{%- endmacro %}

{#- The lowest rebuilt_seq a row of `model_name` at the invocation's touched keys can have (see above). -#}
{% macro rebuilt_since(model_name) -%}
    {%- set keys = batch_keys() -%}
    {%- if not keys['batches'] -%}
        0
    {%- else -%}
        coalesce((
            select case when count(distinct consumed.batch_id) = {{ keys['batch_count'] }} then min(invocations.seq) end
            from pipeline.model_batches as consumed
            inner join pipeline.invocations as invocations on invocations.invocation_id = consumed.invocation_id
            where consumed.model = '{{ model_name }}' and consumed.batch_id in ({{ keys['batches'] }})
        ), 0)
    {%- endif -%}
{%- endmacro %}

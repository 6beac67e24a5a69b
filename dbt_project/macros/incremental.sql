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

{% macro create_model_batches() -%}
    create schema if not exists pipeline;
    create table if not exists pipeline.model_batches (model varchar, batch_id varchar)
{%- endmacro %}

{% macro pending_batches() -%}
    select batch_id from {{ source('raw', 'ingest_batches') }}
    except
    select batch_id from pipeline.model_batches where model = '{{ this.identifier }}'
{%- endmacro %}

{% macro changed_orders() -%}
    select order_key from {{ source('raw', 'order_history') }} where batch_id in ({{ pending_batches() }})
    union
    select order_key from {{ source('raw', 'order_events') }} where batch_id in ({{ pending_batches() }})
{%- endmacro %}

{% macro touched_addresses() -%}
    select distinct address_key
    from {{ source('raw', 'order_history') }}
    where address_key is not null and order_key in ({{ changed_orders() }})
{%- endmacro %}

{% macro touched_business_days() -%}
    select distinct {{ business_date('created_at') }}
    from {{ source('raw', 'order_history') }}
    where order_key in ({{ changed_orders() }})
{%- endmacro %}

{#- pre-hook: delete the partitions this run rebuilds (nothing on a full build: the table is new). -#}
{% macro delete_touched(partition_column, touched) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ partition_column }} in ({{ touched }})
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- post-hook: the batches this build consumed. -#}
{% macro mark_batches_consumed() -%}
    insert into pipeline.model_batches
    select '{{ this.identifier }}', batch_id from ({{ pending_batches() }})
{%- endmacro %}

{#- The merge chain (groups → items → parcels) is partitioned by address while the merge key includes the
    address and the window is fixed; otherwise a group can span addresses or read other days, and the chain is
    rebuilt whole every run. -#}
{% macro merges_by_address() -%}
    {{ return('address_key' in var('merge_required_keys') and not var('merge_dynamic_window')['enabled']) }}
{%- endmacro %}

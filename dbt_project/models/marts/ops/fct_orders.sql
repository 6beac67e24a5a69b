{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_touched('order_key', changed_orders()) }}",
    post_hook="{{ mark_batches_consumed() }}"
) }}
--
-- One row per order: the order as loaded, its current status and milestones from the event history,
-- and its basket measured from the lines.
--
-- Incremental by order (macros/incremental.sql): an order's row depends only on its own orders row, lines
-- and events. Ingestion (ingestion/loader.py) replaces an order's row and lines together when a newer version
-- arrives (a partial refund, a removed item), recording the version in raw.order_history with its batch, and
-- events are only appended, each with its batch. So the orders a batch changed are exactly those with a
-- version or an event in it, and the micro-batch rebuilds those. The ledger compares batch ids as a set, so
-- a file of late events with old timestamps is still picked up.
-- Changing var local_timezone changes every row: run the full rebuild then.

with

orders as (
    select *
    from {{ ref('stg_raw__orders') }}
    {% if is_incremental() %}
        where {{ in_batch_keys('order_key', 'orders') }}
    {% endif %}
),

status as (
    select *
    from {{ ref('int_orders__current_status') }}
    where {{ in_batch_keys('order_key', 'orders', rebuilt_by='int_orders__current_status') }}
),

-- weight_g / volume_ml on a line are already line totals (unit x quantity, filled by ingestion from the
-- product catalogue at load time), so the basket is their plain sum.
baskets as (
    select
        order_key,
        count(*) as line_count,
        cast(sum(quantity) as bigint) as items_quantity,
        cast(sum(weight_g) as bigint) as total_weight_g,
        cast(sum(volume_ml) as bigint) as total_volume_ml,
        string_agg(distinct temp_zone, ',' order by temp_zone) as temp_zones,
        bool_or(temp_zone = 'frozen') as has_frozen
    from {{ ref('stg_raw__order_lines') }}
    where {{ in_batch_order_lines() }}
    group by order_key
)

select
    orders.order_key,
    orders.channel,
    orders.channel_order_id,
    orders.store_id,
    orders.channel_user_id,
    orders.recipient_name,
    orders.phone,
    orders.phone_kind,
    orders.phone_last4,
    orders.address_raw,
    orders.province,
    orders.city,
    orders.district,
    orders.street,
    orders.address_detail,
    orders.admin_code,
    orders.address_key,
    orders.lat,
    orders.lng,
    orders.created_at,
    orders.created_at_local,
    orders.business_date,
    -- The channel's own payment time when it sent one, else the first 'paid' event (some channels confirm
    -- payment only through a later status push).
    coalesce(orders.paid_at, status.paid_at) as paid_at,
    orders.promised_from,
    orders.promised_to,
    orders.status,
    -- An order with no events yet keeps the status it was ingested with.
    coalesce(status.current_status, orders.status) as current_status,
    status.status_at,
    coalesce(status.current_status, orders.status) = 'cancelled' as is_cancelled,
    status.picked_at,
    status.dispatched_at,
    status.delivered_at,
    status.cancelled_at,
    coalesce(status.event_count, 0) as event_count,
    orders.goods_amount,
    orders.merchant_discount,
    orders.platform_discount,
    orders.delivery_fee,
    orders.packaging_fee,
    orders.paid_amount,
    orders.payment_method,
    orders.fulfilment_type,
    orders.delivered_by,
    coalesce(baskets.line_count, 0) as line_count,
    coalesce(baskets.items_quantity, 0) as items_quantity,
    baskets.total_weight_g,
    baskets.total_volume_ml,
    baskets.temp_zones,
    coalesce(baskets.has_frozen, false) as has_frozen,
    orders.batch_id,
    orders.source_file,
    orders.source_line,
    orders.raw_hash,
    -- Which invocation wrote the row (macros/rebuilt_seq.sql), for fct_exceptions' read of the batch's orders.
    -- The warehouse's alone: ClickHouse does not copy it (history/schema.py, WAREHOUSE_ONLY_COLUMNS).
    {{ this_rebuild_seq() }} as rebuilt_seq
from orders
left join status on status.order_key = orders.order_key
left join baskets on baskets.order_key = orders.order_key

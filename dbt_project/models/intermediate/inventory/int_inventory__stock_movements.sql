-- Every stock movement per store and SKU since its WMS snapshots: the count itself, the goods that moved in
-- or out of the store between counts (stg_raw__stock_movements: receipt, transfer_in, transfer_out,
-- write_off), each order line that reserved units when the order was placed, and each cancelled order line
-- that released them again. Without the goods movements a delivery at 10:00 after a 06:00 count would look
-- like orders selling stock that was not there.
--
-- A movement belongs to the period of the latest snapshot of its store and SKU at or before the order was
-- placed (an ASOF join); orders placed before a store/SKU was ever counted have no baseline and are left
-- out, as are SKUs a snapshot did not count (their position is unknown, not zero). Every order reserves,
-- whatever its channel: an open order holds its units, a delivered one has taken them. A cancellation
-- releases in the reserve's period, at the time the order was cancelled (never before it was placed).
-- A goods movement belongs to the period of the latest count at or before it, like an order; one before the
-- first count has no baseline and is left out, and a count at the same instant is taken to be before it
-- (a count includes what was there, a receipt stamped at that second is new).
-- movement_seq orders movements at the same instant: the count first, then goods movements and releases,
-- then reserves.

with snapshots as (
    select * from {{ ref('stg_raw__stock_snapshots') }}
),

orders as (
    select
        orders.order_key,
        orders.channel,
        orders.store_id,
        orders.created_at,
        -- An order with no events keeps the status it was ingested with (as in fct_orders).
        coalesce(status.current_status, orders.status) as current_status,
        greatest(orders.created_at, coalesce(status.cancelled_at, status.status_at, orders.created_at)) as cancelled_at
    from {{ ref('stg_raw__orders') }} as orders
    left join {{ ref('int_orders__current_status') }} as status
        on status.order_key = orders.order_key
),

order_lines as (
    select
        lines.order_key,
        lines.line_no,
        lines.sku_id,
        lines.quantity,
        orders.channel,
        orders.store_id,
        orders.created_at,
        orders.current_status,
        orders.cancelled_at
    from {{ ref('stg_raw__order_lines') }} as lines
    inner join orders on orders.order_key = lines.order_key
),

goods_in_period as (
    select
        goods.*,
        snapshots.snapshot_at
    from {{ ref('stg_raw__stock_movements') }} as goods
    asof inner join snapshots
        on goods.store_id = snapshots.store_id
        and goods.sku_id = snapshots.sku_id
        and goods.moved_at >= snapshots.snapshot_at
),

lines_in_period as (
    select
        order_lines.*,
        snapshots.snapshot_at
    from order_lines
    asof inner join snapshots
        on order_lines.store_id = snapshots.store_id
        and order_lines.sku_id = snapshots.sku_id
        and order_lines.created_at >= snapshots.snapshot_at
)

select
    store_id,
    sku_id,
    snapshot_at,
    snapshot_at as movement_at,
    'snapshot' as movement_kind,
    0 as movement_seq,
    cast(null as varchar) as order_key,
    cast(null as integer) as line_no,
    cast(null as varchar) as channel,
    cast(null as varchar) as stock_movement_id,
    on_hand as quantity_change
from snapshots

union all

select
    store_id,
    sku_id,
    snapshot_at,
    moved_at as movement_at,
    movement_type as movement_kind,
    1 as movement_seq,
    cast(null as varchar) as order_key,
    cast(null as integer) as line_no,
    cast(null as varchar) as channel,
    movement_id as stock_movement_id,
    quantity_change
from goods_in_period

union all

select
    store_id,
    sku_id,
    snapshot_at,
    created_at as movement_at,
    'reserve' as movement_kind,
    2 as movement_seq,
    order_key,
    line_no,
    channel,
    cast(null as varchar) as stock_movement_id,
    -cast(quantity as bigint) as quantity_change
from lines_in_period

union all

select
    store_id,
    sku_id,
    snapshot_at,
    cancelled_at as movement_at,
    'release' as movement_kind,
    1 as movement_seq,
    order_key,
    line_no,
    channel,
    cast(null as varchar) as stock_movement_id,
    cast(quantity as bigint) as quantity_change
from lines_in_period
where current_status = 'cancelled'

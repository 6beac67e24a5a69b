{#-
  The stock movements of int_inventory__stock_movements (see that model for what they are), for every count
  period, or, given `periods` (a relation of store_id, sku_id, snapshot_at), for those periods only: the
  incremental fct_stock_position_history rebuilds the periods a micro-batch touched.

  Orders come with their current status from fct_orders, an incremental table, rather than from
  int_orders__current_status: that view ranks every status event ever received (seconds at a million orders)
  for each reader, while fct_orders already holds the result and rebuilds only the orders that changed.

  Restricting to periods keeps every count of the periods' store/SKUs (an order or goods movement belongs to
  the latest count at or before it, so the ASOF join needs them all) but only the orders of their stores
  placed at or after the earliest of the periods; movements of other periods are dropped at the end.
-#}
{% macro stock_movements(periods=none) -%}
with snapshots as (
    select snapshot_at, store_id, sku_id, on_hand
    from {{ ref('stg_raw__stock_snapshots') }}
    {%- if periods %}
    where (store_id, sku_id) in (select store_id, sku_id from {{ periods }})
    {%- endif %}
),

orders as (
    select
        order_key,
        channel,
        store_id,
        created_at,
        current_status,
        greatest(created_at, coalesce(cancelled_at, status_at, created_at)) as cancelled_at
    from {{ ref('fct_orders') }}
    {%- if periods %}
    where created_at >= (select min(snapshot_at) from {{ periods }})
        and store_id in (select store_id from {{ periods }})
    {%- endif %}
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
),

movements as (
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
)

select movements.*
from movements
{%- if periods %}
where (store_id, sku_id, snapshot_at) in (select store_id, sku_id, snapshot_at from {{ periods }})
{%- endif %}
{%- endmacro %}

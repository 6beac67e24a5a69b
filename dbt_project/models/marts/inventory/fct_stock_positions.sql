-- The current stock position per store and SKU: the latest WMS count (on_hand), the goods moved in and out
-- since (receipts and transfers in: moved_in; transfers out and write-offs: moved_out), what orders of every
-- channel took since (reserved), what cancellations gave back (released) and what is available now.
--
-- reserved / released / open / fulfilled are counted here straight from the orders placed since the count;
-- available_units is the closing balance of the movement ledger (fct_stock_position_history). The two are
-- computed independently, and tests/assert_stock_conservation.sql checks that
--   on_hand + moved_in − moved_out − reserved + released = available   and   reserved = open + fulfilled + released
-- for every store and SKU. A negative available means orders took more than was there: oversold_units.
-- Store/SKUs no count covered have no position (unknown is not zero).

with counts as (
    select * from {{ ref('stg_raw__stock_snapshots') }}
),

latest as (
    select store_id, sku_id, max(snapshot_at) as snapshot_at
    from counts
    group by store_id, sku_id
),

positions as (
    select latest.store_id, latest.sku_id, latest.snapshot_at, counts.on_hand
    from latest
    inner join counts
        on counts.store_id = latest.store_id
        and counts.sku_id = latest.sku_id
        and counts.snapshot_at = latest.snapshot_at
),

-- Current statuses from fct_orders (incremental), not int_orders__current_status, which would rank every
-- status event ever received again on each run.
orders as (
    select order_key, store_id, created_at, current_status
    from {{ ref('fct_orders') }}
    where created_at >= (select min(snapshot_at) from latest)
),

demand as (
    select
        positions.store_id,
        positions.sku_id,
        sum(lines.quantity) as reserved_units,
        sum(lines.quantity) filter (where orders.current_status = 'cancelled') as released_units,
        sum(lines.quantity) filter (
            where orders.current_status not in {{ sql_string_list(var('closed_statuses')) }}
        ) as open_units,
        sum(lines.quantity) filter (
            where orders.current_status in {{ sql_string_list(var('closed_statuses')) }}
                and orders.current_status <> 'cancelled'
        ) as fulfilled_units,
        count(distinct orders.order_key) as orders_since_count,
        max(orders.created_at) as last_order_at
    from positions
    inner join orders
        on orders.store_id = positions.store_id
        and orders.created_at >= positions.snapshot_at
    inner join {{ ref('stg_raw__order_lines') }} as lines
        on lines.order_key = orders.order_key
        and lines.sku_id = positions.sku_id
    group by positions.store_id, positions.sku_id
),

goods as (
    select
        positions.store_id,
        positions.sku_id,
        sum(goods.quantity_change) filter (where goods.quantity_change > 0) as moved_in_units,
        -sum(goods.quantity_change) filter (where goods.quantity_change < 0) as moved_out_units
    from positions
    inner join {{ ref('stg_raw__stock_movements') }} as goods
        on goods.store_id = positions.store_id
        and goods.sku_id = positions.sku_id
        and goods.moved_at >= positions.snapshot_at
    group by positions.store_id, positions.sku_id
),

ledger_close as (
    select store_id, sku_id, balance_after as available_units, movement_at as last_movement_at
    from {{ ref('fct_stock_position_history') }}
    where is_current_period
    qualify row_number() over (partition by store_id, sku_id order by movement_no desc) = 1
),

-- The run's clock (var as_of), not the newest order or count: a position is "as of" when it was computed.
data_now as (
    select {{ as_of() }} as as_of
)

select
    positions.store_id,
    positions.sku_id,
    products.product_name,
    products.category,
    positions.snapshot_at,
    positions.on_hand,
    cast(coalesce(demand.reserved_units, 0) as bigint) as reserved_units,
    cast(coalesce(demand.released_units, 0) as bigint) as released_units,
    cast(coalesce(demand.open_units, 0) as bigint) as open_units,
    cast(coalesce(demand.fulfilled_units, 0) as bigint) as fulfilled_units,
    cast(coalesce(goods.moved_in_units, 0) as bigint) as moved_in_units,
    cast(coalesce(goods.moved_out_units, 0) as bigint) as moved_out_units,
    ledger_close.available_units,
    cast(greatest(-ledger_close.available_units, 0) as bigint) as oversold_units,
    coalesce(demand.orders_since_count, 0) as orders_since_count,
    ledger_close.last_movement_at,
    data_now.as_of
from positions
inner join ledger_close
    on ledger_close.store_id = positions.store_id
    and ledger_close.sku_id = positions.sku_id
left join demand
    on demand.store_id = positions.store_id
    and demand.sku_id = positions.sku_id
left join goods
    on goods.store_id = positions.store_id
    and goods.sku_id = positions.sku_id
left join {{ ref('stg_raw__products') }} as products
    on products.sku_id = positions.sku_id
cross join data_now

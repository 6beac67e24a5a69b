{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=["{{ record_touched_stock_periods() }}", "{{ delete_touched_stock_periods() }}"],
    post_hook="{{ mark_batches_consumed() }}"
) }}
-- The time series of stock positions: every movement of a store and SKU (int_inventory__stock_movements) with the
-- position before and after it, per WMS count period. balance_after is what was available right after the
-- movement (count + goods moved in − goods moved out − reserved + released so far); a reserve that takes
-- more than was available is an oversell of shortfall_units (fct_oversell_events).
--
-- Incremental by count period (macros/incremental.sql, touched_stock_periods): a period's rows depend only on
-- its count and the orders and goods movements placed in it, so a micro-batch rebuilds the periods its orders,
-- cancellations, counts and goods movements touched, whole, and nothing else.
-- depends_on: {{ ref('fct_orders') }} {{ ref('stg_raw__orders') }} {{ ref('stg_raw__order_lines') }} {{ ref('stg_raw__stock_movements') }}
-- (read through the macros on incremental runs only)

with movements as (
    {%- if is_incremental() %}
    {{ stock_movements(periods=touched_stock_periods_table()) | indent(4) }}
    {%- else %}
    select * from {{ ref('int_inventory__stock_movements') }}
    {%- endif %}
),

ledger as (
    select
        *,
        row_number() over period_order as movement_no,
        sum(quantity_change) over (period_order rows between unbounded preceding and current row) as balance_after
    from movements
    window period_order as (
        partition by store_id, sku_id, snapshot_at
        order by movement_at, movement_seq, order_key nulls first, line_no nulls first, stock_movement_id
    )
),

-- From the counts, not the movements: on an incremental run the movements are the touched periods only.
latest_count as (
    select store_id, sku_id, max(snapshot_at) as latest_snapshot_at
    from {{ ref('stg_raw__stock_snapshots') }}
    group by store_id, sku_id
)

select
    {{ hash_key(['ledger.store_id', 'ledger.sku_id', 'ledger.snapshot_at', 'ledger.movement_no']) }} as movement_id,
    ledger.store_id,
    ledger.sku_id,
    ledger.snapshot_at,
    ledger.movement_no,
    ledger.movement_at,
    ledger.movement_kind,
    ledger.order_key,
    ledger.line_no,
    ledger.channel,
    -- The WMS document line of a goods movement (receipt, transfer, write-off); NULL for counts and orders.
    ledger.stock_movement_id,
    ledger.quantity_change,
    cast(ledger.balance_after - ledger.quantity_change as bigint) as balance_before,
    cast(ledger.balance_after as bigint) as balance_after,
    -- Units a reserve took beyond what was available (never more than it asked for).
    case
        when ledger.movement_kind = 'reserve'
            then cast(least(-ledger.quantity_change,
                            greatest(0, -ledger.quantity_change - greatest(ledger.balance_after - ledger.quantity_change, 0)))
                      as bigint)
        else 0
    end as shortfall_units,
    ledger.snapshot_at = latest_count.latest_snapshot_at as is_current_period
from ledger
inner join latest_count
    on latest_count.store_id = ledger.store_id
    and latest_count.sku_id = ledger.sku_id

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=["{{ record_oversell_periods() }}", "{{ delete_touched_stock_periods() }}"],
    post_hook="{{ mark_batches_consumed() }}"
) }}
-- Orders that took stock that was not available: one row per order line whose reserve found fewer units
-- available than it asked for (fct_stock_position_history), with how many it could not have had.
-- Resolved when the store/SKU is counted again (a later WMS snapshot) or the order is cancelled (the
-- units go back), whichever comes first.
--
-- Incremental by count period, as the stock ledger it reads (macros/incremental.sql, touched_stock_periods): an oversell's row depends
-- on its period's movements and on the store/SKU's next count, and the ledger rebuilds a period when either
-- changes. Recomputed whole, it read every movement of the ledger each micro-batch (seconds at millions of
-- orders: bench/results/scale.md).

with history as (
    select * from {{ ref('fct_stock_position_history') }}
    {%- if is_incremental() %}
    where (store_id, sku_id, snapshot_at) in (select store_id, sku_id, snapshot_at from {{ touched_table() }})
    {%- endif %}
),

-- Every count of the touched stores/SKUs, not only the touched periods': a period's next count may lie in one
-- this run left alone.
counts as (
    select store_id, sku_id, snapshot_at
    from {{ ref('fct_stock_position_history') }}
    where movement_kind = 'snapshot'
    {%- if is_incremental() %}
        and (store_id, sku_id) in (select store_id, sku_id from {{ touched_table() }})
    {%- endif %}
),

releases as (
    select store_id, sku_id, snapshot_at, order_key, line_no, movement_at as released_at
    from history
    where movement_kind = 'release'
),

next_counts as (
    select
        store_id,
        sku_id,
        snapshot_at,
        lead(snapshot_at) over (partition by store_id, sku_id order by snapshot_at) as next_count_at
    from counts
),

oversells as (
    select *
    from history
    where movement_kind = 'reserve'
        and shortfall_units > 0
)

select
    {{ hash_key(['oversells.order_key', 'oversells.line_no']) }} as oversell_id,
    oversells.order_key,
    oversells.line_no,
    oversells.channel,
    oversells.store_id,
    oversells.sku_id,
    oversells.movement_at as ordered_at,
    -oversells.quantity_change as quantity,
    greatest(oversells.balance_before, 0) as available_before,
    oversells.shortfall_units,
    oversells.snapshot_at,
    releases.released_at,
    next_counts.next_count_at,
    case
        when releases.released_at is null then next_counts.next_count_at
        when next_counts.next_count_at is null then releases.released_at
        else least(releases.released_at, next_counts.next_count_at)
    end as resolved_at
from oversells
inner join next_counts
    on next_counts.store_id = oversells.store_id
    and next_counts.sku_id = oversells.sku_id
    and next_counts.snapshot_at = oversells.snapshot_at
left join releases
    on releases.store_id = oversells.store_id
    and releases.sku_id = oversells.sku_id
    and releases.snapshot_at = oversells.snapshot_at
    and releases.order_key = oversells.order_key
    and releases.line_no = oversells.line_no

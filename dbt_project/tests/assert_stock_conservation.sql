-- Stock conservation, for every store and SKU with a position (fct_stock_positions):
--   on_hand + moved_in − moved_out − reserved + released = available
--        (available: the closing balance of the movement ledger; moved_in / moved_out: counted from the goods
--         movements directly; reserved / released: counted from the orders directly)
--   reserved = open + fulfilled + released         (every unit ordered since the count is in exactly one state)
--   the ledger's movements since the count add up to the same goods moved, reserved and released units
-- Returns the positions that break any of these: a row means the ledger lost or double-counted a movement.
with positions as (
    select * from {{ ref('fct_stock_positions') }}
),

ledger as (
    select
        store_id,
        sku_id,
        coalesce(-sum(quantity_change) filter (where movement_kind = 'reserve'), 0) as ledger_reserved,
        coalesce(sum(quantity_change) filter (where movement_kind = 'release'), 0) as ledger_released,
        coalesce(sum(quantity_change) filter (where movement_kind in ('receipt', 'transfer_in')), 0) as ledger_moved_in,
        coalesce(-sum(quantity_change) filter (where movement_kind in ('transfer_out', 'write_off')), 0) as ledger_moved_out
    from {{ ref('fct_stock_position_history') }}
    where is_current_period
    group by store_id, sku_id
)

select
    positions.store_id,
    positions.sku_id,
    positions.on_hand,
    positions.reserved_units,
    positions.released_units,
    positions.moved_in_units,
    positions.moved_out_units,
    positions.open_units,
    positions.fulfilled_units,
    positions.available_units,
    ledger.ledger_reserved,
    ledger.ledger_released,
    ledger.ledger_moved_in,
    ledger.ledger_moved_out
from positions
left join ledger
    on ledger.store_id = positions.store_id
    and ledger.sku_id = positions.sku_id
where positions.on_hand + positions.moved_in_units - positions.moved_out_units
        - positions.reserved_units + positions.released_units <> positions.available_units
    or positions.available_units is null
    or positions.reserved_units <> positions.open_units + positions.fulfilled_units + positions.released_units
    or coalesce(ledger.ledger_reserved, 0) <> positions.reserved_units
    or coalesce(ledger.ledger_released, 0) <> positions.released_units
    or coalesce(ledger.ledger_moved_in, 0) <> positions.moved_in_units
    or coalesce(ledger.ledger_moved_out, 0) <> positions.moved_out_units

-- Shown in Dagster as an asset check of fct_stock_positions (a test with several parents needs to name one).
{{ config(meta={'dagster': {'ref': {'name': 'fct_stock_positions'}}}) }}

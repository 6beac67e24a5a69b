-- Stock moved between WMS counts: goods receipts and transfers in add units, transfers out and write-offs
-- take them away. The landing feed carries positive quantities and the type (ingestion/contract.py
-- STOCK_MOVEMENT_SIGNS); the sign is applied once, here.
with source as (
    select * from {{ source('raw', 'stock_movements') }}
)

select
    movement_id,
    store_id,
    sku_id,
    movement_type,
    cast(quantity as bigint) as quantity,
    case when movement_type in ('receipt', 'transfer_in') then 1 else -1 end * cast(quantity as bigint) as quantity_change,
    moved_at,
    reference
from source

-- WMS stock counts: on hand per store and SKU at a point in time (naive UTC). A store/SKU missing from a
-- snapshot was not counted; downstream treats its position as unknown rather than zero.
with source as (
    select * from {{ source('raw', 'stock_snapshots') }}
)

select
    snapshot_at,
    store_id,
    sku_id,
    cast(on_hand as bigint) as on_hand
from source

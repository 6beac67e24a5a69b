with source as (
    select * from {{ source('raw', 'order_lines') }}
)

select
    order_key,
    line_no,
    sku_id,
    channel_sku,
    name as product_name,
    quantity,
    cast(unit_price as decimal(18, 2)) as unit_price,
    cast(original_price as decimal(18, 2)) as original_price,
    cast(line_discount as decimal(18, 2)) as line_discount,
    cast(paid_amount as decimal(18, 2)) as paid_amount,
    weight_g,
    volume_ml,
    temp_zone,
    batch_id
from source

with source as (
    select * from {{ source('raw', 'products') }}
)

select
    sku_id,
    name as product_name,
    category,
    cast(unit_price as decimal(18, 2)) as unit_price,
    weight_g,
    volume_ml,
    temp_zone
from source

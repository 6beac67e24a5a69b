with source as (
    select * from {{ source('raw', 'stores') }}
)

select
    store_id,
    name as store_name,
    kind as store_kind,
    city,
    district,
    address,
    lat,
    lng
from source

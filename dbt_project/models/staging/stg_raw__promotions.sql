-- The promotion calendar (reference data). channel is a sales channel or 'all'; amounts in yuan;
-- platform_share is the fraction of a promotion's reduction the platform funds (the merchant the rest).
with source as (
    select * from {{ source('raw', 'promotions') }}
)

select
    promo_id,
    channel,
    kind as promo_kind,
    cast(coalesce(threshold, 0) as decimal(18, 2)) as threshold_amount,
    cast(amount as decimal(18, 2)) as reduce_amount,
    sku_id,
    starts_at,
    ends_at,
    coalesce(platform_share, 0.0) as platform_share
from source

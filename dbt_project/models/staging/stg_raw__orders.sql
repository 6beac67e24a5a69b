-- Orders as loaded by ingestion. Columns are listed rather than `select *` so a contract change shows
-- up here as a compile error instead of silently flowing into the marts.
with source as (
    select * from {{ source('raw', 'orders') }}
)

select
    order_key,
    channel,
    channel_order_id,
    store_id,
    channel_user_id,
    recipient_name,
    phone,
    phone_kind,
    phone_last4,
    phone_first3,
    address_raw,
    province,
    city,
    district,
    street,
    address_detail,
    admin_code,
    address_key,
    lat,
    lng,
    created_at,
    -- Business reporting is on local wall time; the UTC value stays the truth.
    {{ to_local_ts('created_at') }} as created_at_local,
    {{ business_date('created_at') }} as business_date,
    paid_at,
    promised_from,
    promised_to,
    status,
    cast(goods_amount as decimal(18, 2)) as goods_amount,
    cast(merchant_discount as decimal(18, 2)) as merchant_discount,
    cast(platform_discount as decimal(18, 2)) as platform_discount,
    cast(delivery_fee as decimal(18, 2)) as delivery_fee,
    cast(packaging_fee as decimal(18, 2)) as packaging_fee,
    cast(paid_amount as decimal(18, 2)) as paid_amount,
    cast(merchant_receivable as decimal(18, 2)) as merchant_receivable,
    payment_method,
    fulfilment_type,
    delivered_by,
    batch_id,
    source_file,
    source_line,
    raw_hash
from source

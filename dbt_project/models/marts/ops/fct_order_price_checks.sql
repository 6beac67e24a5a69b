-- Did each order pay what the catalogue and the promotion rules say? One row per order with lines.
--
-- int_order_price_options lists every correct pricing of the basket (which optional coupons or
-- delivery-fee cuts were used is the customer's choice, so each combination is correct). The order is
-- matched to the option that explains both its paid amount and the platform's share of its discounts
-- within var price_tolerance_yuan, else to the one closest in paid amount. It is a price mismatch when
-- even that option is off by more than the tolerance in paid amount or in platform share (what Meituan
-- and Eleme report they fund). An order with a SKU missing from the catalogue cannot be checked
-- (check_status 'unverifiable').

{%- set tolerance = var('price_tolerance_yuan') %}

with options as (
    select * from {{ ref('int_order_price_options') }}
),

orders as (
    select
        orders.order_key,
        orders.channel,
        orders.store_id,
        orders.created_at,
        orders.business_date,
        coalesce(status.current_status, orders.status) = 'cancelled' as is_cancelled,
        status.cancelled_at,
        orders.goods_amount,
        orders.merchant_discount,
        orders.platform_discount,
        orders.delivery_fee,
        orders.packaging_fee,
        orders.paid_amount
    from {{ ref('stg_raw__orders') }} as orders
    left join {{ ref('int_order_current_status') }} as status
        on status.order_key = orders.order_key
),

scored as (
    select
        options.*,
        orders.paid_amount - options.expected_paid_amount as paid_difference,
        orders.platform_discount - options.expected_platform_discount as platform_difference,
        abs(orders.paid_amount - options.expected_paid_amount) <= {{ tolerance }} as paid_ok,
        abs(orders.platform_discount - options.expected_platform_discount) <= {{ tolerance }} as platform_ok
    from options
    inner join orders on orders.order_key = options.order_key
),

best as (
    select *
    from scored
    qualify row_number() over (
        partition by order_key
        order by (paid_ok and platform_ok) desc nulls last, abs(paid_difference) nulls last,
            abs(platform_difference) nulls last, option_mask
    ) = 1
)

select
    orders.order_key,
    orders.channel,
    orders.store_id,
    orders.created_at,
    orders.business_date,
    orders.is_cancelled,
    orders.cancelled_at,
    orders.goods_amount,
    orders.merchant_discount,
    orders.platform_discount,
    orders.delivery_fee,
    orders.packaging_fee,
    orders.paid_amount,
    best.expected_goods_amount,
    best.expected_item_discount,
    best.expected_promotion_discount,
    best.expected_platform_discount,
    best.expected_paid_amount,
    best.applied_promotions,
    best.paid_difference,
    best.platform_difference,
    case
        when best.has_unknown_price or best.expected_paid_amount is null then 'unverifiable'
        when best.paid_ok and best.platform_ok then 'ok'
        else 'mismatch'
    end as check_status,
    coalesce(not (best.paid_ok and best.platform_ok) and not best.has_unknown_price, false) as is_price_mismatch,
    nullif(concat_ws(',',
        case when not best.paid_ok then 'paid_amount' end,
        case when not best.platform_ok then 'platform_share' end
    ), '') as mismatch_reason
from orders
inner join best on best.order_key = orders.order_key

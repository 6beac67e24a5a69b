{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_touched('order_key', changed_orders()) }}",
    post_hook="{{ mark_batches_consumed() }}"
) }}
-- Incremental by order (macros/incremental.sql): an order's rows depend only on its own record, lines and
-- events and the promotions and products it is priced against (a change to those is a
-- reference change: full rebuild), so a micro-batch rebuilds the orders its batches changed.
-- Did each order charge what our catalogue and promotions say? One row per order with lines.
--
-- int_pricing__order_price_options lists every correct pricing of the basket (which optional coupons or
-- delivery-fee cuts were used is the customer's choice, so each combination is correct). A price mismatch
-- is about what WE charge and fund, so the order is judged on the merchant's side: the amount before
-- platform-funded discounts (paid + platform_discount = goods − merchant_discount + fees, which carries the
-- unit prices and the merchant-funded discount) must match a correct pricing's (expected paid + the
-- platform's share of our promotions) within var price_tolerance_yuan, and the platform must fund at least
-- its share of our promotions (else the customer paid for what the platform owed). Meituan and Eleme run
-- promotions of their own (platform 满减, red packets, member discounts) that are not in our promotions
-- table and that the platform funds: they lower the paid amount and raise the platform discount by the
-- same amount, do not change what the platform pays us, and are not our price error; their amount is
-- recorded as platform_funded_extra. The order is matched to the option that explains it, else to the one
-- closest on the merchant's side, then in paid amount. An order with a SKU missing from the catalogue
-- cannot be checked (check_status 'unverifiable').

{%- set tolerance = var('price_tolerance_yuan') %}

with options as (
    select * exclude (rebuilt_seq) from {{ ref('int_pricing__order_price_options') }}
    {% if is_incremental() %}
        where {{ in_batch_keys('order_key', 'orders', rebuilt_by='int_pricing__order_price_options') }}
    {% endif %}
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
    left join (
        select order_key, current_status, cancelled_at
        from {{ ref('int_orders__current_status') }}
        where {{ in_batch_keys('order_key', 'orders', rebuilt_by='int_orders__current_status') }}
    ) as status
        on status.order_key = orders.order_key
    {% if is_incremental() %}
        where {{ in_batch_keys('orders.order_key', 'orders') }}
    {% endif %}
),

scored as (
    select
        options.*,
        orders.paid_amount - options.expected_paid_amount as paid_difference,
        (orders.paid_amount + orders.platform_discount)
            - (options.expected_paid_amount + options.expected_platform_discount) as merchant_difference,
        orders.platform_discount - options.expected_platform_discount as platform_difference,
        abs((orders.paid_amount + orders.platform_discount)
            - (options.expected_paid_amount + options.expected_platform_discount)) <= {{ tolerance }} as merchant_ok,
        -- More than our promotions' platform share is the platform's own promotion; less is ours to explain.
        orders.platform_discount - options.expected_platform_discount >= -{{ tolerance }} as platform_ok
    from options
    inner join orders on orders.order_key = options.order_key
),

best as (
    select *
    from scored
    qualify row_number() over (
        partition by order_key
        order by (merchant_ok and platform_ok) desc nulls last, abs(merchant_difference) nulls last,
            abs(paid_difference) nulls last, abs(platform_difference) nulls last, option_mask
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
    best.merchant_difference,
    best.platform_difference,
    cast(greatest(best.platform_difference, 0) as decimal(18, 2)) as platform_funded_extra,
    case
        when best.has_unknown_price or best.expected_paid_amount is null then 'unverifiable'
        when best.merchant_ok and best.platform_ok then 'ok'
        else 'mismatch'
    end as check_status,
    coalesce(not (best.merchant_ok and best.platform_ok) and not best.has_unknown_price, false) as is_price_mismatch,
    nullif(concat_ws(',',
        case when not best.merchant_ok then 'merchant_amount' end,
        case when not best.platform_ok then 'platform_share' end
    ), '') as mismatch_reason
from orders
inner join best on best.order_key = orders.order_key

-- What the system expects each order to settle for, and where (issue 5). One row per order.
--
-- settlement_channel: Meituan, Eleme and group-buy orders on their own statements (group-buy: the leader's);
-- app orders paid by WeChat Pay or Alipay and every mini-program order on the WeChat Pay / Alipay bill; POS
-- sales as end-of-day totals ('pos'). NULL: nothing external settles it (app card / balance payments,
-- cash on delivery).
-- Expected amounts follow the contract rates in the rules (recon_*): fee = round(base × rate, 2), the base
-- being goods after the merchant's discounts on platforms, the amount paid elsewhere; platforms pay out
-- goods − merchant discounts + packaging (+ delivery fee unless they keep it) − fee, others paid − fee.
-- POS fees are charged on tender totals, so a POS order has no expected fee or net of its own.
-- cancelled_on is the business day of the first cancellation (events, else the ingested status), so
-- reconciliation can ask "cancelled by day R?" without looking at later data.
{% set platforms = var('recon_platform_channels') %}
{% set keeps_delivery = var('recon_platform_keeps_delivery_fee') %}

with

orders as (
    select * from {{ ref('stg_raw__orders') }}
),

cancellations as (
    select order_key, min({{ business_date('event_time') }}) as cancelled_on
    from {{ ref('stg_raw__order_events') }}
    where status = 'cancelled'
    group by order_key
),

routed as (
    select
        orders.*,
        case
            when orders.channel = 'pos' then 'pos'
            when coalesce(orders.payment_method, '') in {{ sql_string_list(offline_payment_methods()) }} then null
            when orders.channel in ('meituan', 'eleme', 'groupbuy') then orders.channel
            when orders.channel in ('app', 'miniprogram') and orders.payment_method = 'wechat' then 'wechatpay'
            when orders.channel = 'app' and orders.payment_method = 'alipay' then 'alipay'
        end as settlement_channel
    from orders
),

priced as (
    select
        routed.*,
        case when settlement_channel in {{ sql_string_list(platforms) }}
            then goods_amount - merchant_discount else paid_amount end as fee_base,
        {{ recon_rate(var('recon_fee_rates'), 'settlement_channel') }} as fee_rate
    from routed
)

select
    priced.order_key,
    priced.channel as sales_channel,
    priced.channel_order_id,
    priced.store_id,
    priced.business_date,
    priced.payment_method,
    priced.settlement_channel,
    coalesce(cancellations.cancelled_on, case when priced.status = 'cancelled' then priced.business_date end)
        as cancelled_on,
    priced.paid_amount as expected_gross,
    cast(round(priced.fee_base * priced.fee_rate, 2) as decimal(18, 2)) as expected_fee,
    cast(
        case when priced.settlement_channel in {{ sql_string_list(platforms) }}
            then priced.goods_amount - priced.merchant_discount + priced.packaging_fee
                + case when priced.settlement_channel in {{ sql_string_list(keeps_delivery) }} then 0 else priced.delivery_fee end
            else priced.paid_amount
        end - round(priced.fee_base * priced.fee_rate, 2)
    as decimal(18, 2)) as expected_net
from priced
left join cancellations
    on cancellations.order_key = priced.order_key

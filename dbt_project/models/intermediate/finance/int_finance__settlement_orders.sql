-- What the system expects each order to settle for, and where. One row per order.
--
-- settlement_channel: Meituan, Eleme and group-buy orders on their own statements (group-buy: the leader's);
-- app orders paid by WeChat Pay or Alipay and every mini-program order on the WeChat Pay / Alipay bill; POS
-- sales as end-of-day totals ('pos'). NULL: nothing external settles it (app card / balance payments,
-- cash on delivery).
-- Expected amounts follow the contract rates in the rules (recon_*): fee = round(base × rate, 2), the base
-- being goods after the merchant's discounts on platforms, the amount paid elsewhere; platforms pay out
-- goods − merchant discounts + packaging (+ delivery fee unless they keep it) − fee, others paid − fee.
-- Where the platform states what it pays for the order (merchant_receivable: Meituan poi_receive_detail,
-- Eleme income) that is the expected net, and the expected fee is what the platform deducts from the payout
-- base (commission, delivery service, minimum charges as it computes them); the rates are only the fallback.
-- expected_basis says which: 'platform_stated' or 'configured_rate'.
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
        {{ recon_rate(var('recon_fee_rates'), 'settlement_channel') }} as fee_rate,
        case when settlement_channel in {{ sql_string_list(platforms) }}
            then goods_amount - merchant_discount + packaging_fee
                + case when settlement_channel in {{ sql_string_list(keeps_delivery) }} then 0 else delivery_fee end
            else paid_amount
        end as payout_base,
        settlement_channel in {{ sql_string_list(platforms) }} and merchant_receivable is not null as platform_stated
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
    cast(case when priced.platform_stated then priced.payout_base - priced.merchant_receivable
        else round(priced.fee_base * priced.fee_rate, 2) end as decimal(18, 2)) as expected_fee,
    cast(case when priced.platform_stated then priced.merchant_receivable
        else priced.payout_base - round(priced.fee_base * priced.fee_rate, 2) end as decimal(18, 2)) as expected_net,
    case when priced.platform_stated then 'platform_stated' else 'configured_rate' end as expected_basis
from priced
left join cancellations
    on cancellations.order_key = priced.order_key

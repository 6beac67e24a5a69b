{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_touched('business_date', touched_business_days()) }}",
    post_hook="{{ mark_batches_consumed() }}"
) }}
-- Order KPIs per local hour and channel, for the operations screen. Only hours with orders have rows.
--
-- The hour is taken from the UTC created_at through to_local_ts (the one definition of local time), so
-- an order at 16:30 UTC lands in 00:00 of the NEXT local business day. Orders count when placed,
-- whatever happened to them later: `orders` and `goods_amount` include cancelled orders (demand),
-- `paid_amount` and `avg_order_value` only the orders that were not cancelled (revenue).
--
-- Incremental by local business day (macros/incremental.sql, touched_business_days): a day's rows depend only
-- on the orders placed that day, so a micro-batch rebuilds the days of the orders it changed, whole.

with orders as (
    select
        channel,
        {{ to_local_ts('created_at') }} as created_at_local,
        is_cancelled,
        fulfilment_type,
        goods_amount,
        paid_amount
    from {{ ref('fct_orders') }}
    {% if is_incremental() %}
        where business_date in (select business_date from {{ touched_table() }})
    {% endif %}
),

hourly as (
    select
        cast(created_at_local as date) as business_date,
        date_trunc('hour', created_at_local) as hour_start_local,
        channel,
        count(*) as orders,
        count(*) filter (where is_cancelled) as cancelled_orders,
        count(*) filter (where fulfilment_type = 'delivery') as delivery_orders,
        coalesce(sum(goods_amount), 0) as goods_amount,
        coalesce(sum(paid_amount) filter (where not is_cancelled), 0) as paid_amount
    from orders
    group by all
)

select
    business_date,
    cast(hour_start_local as timestamp) as hour_start_local,
    channel,
    orders,
    cancelled_orders,
    delivery_orders,
    cast(goods_amount as decimal(18, 2)) as goods_amount,
    cast(paid_amount as decimal(18, 2)) as paid_amount,
    -- Mean paid amount of the orders that were not cancelled; NULL when every order was cancelled.
    cast(round(paid_amount / nullif(orders - cancelled_orders, 0), 2) as decimal(18, 2)) as avg_order_value
from hourly

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_touched('business_date', touched_business_days()) }}",
    post_hook="{{ mark_batches_consumed() }}"
) }}
-- One row per local business day and channel. `orders` counts every order placed that day; paid_amount
-- is the revenue of the orders that were not cancelled. Fulfilment counts include cancelled orders,
-- so delivery + self_pickup + in_store = orders (when fulfilment_type is set).
--
-- Incremental by local business day (macros/incremental.sql, touched_business_days): a day's rows depend only
-- on the orders placed that day, so a micro-batch rebuilds the days of the orders it changed, whole.

with orders as (
    select
        channel,
        {{ business_date('created_at') }} as business_date,
        is_cancelled,
        fulfilment_type,
        paid_amount
    from {{ ref('fct_orders') }}
    {% if is_incremental() %}
        where business_date in (select business_date from {{ touched_table() }})
    {% endif %}
)

select
    business_date,
    channel,
    count(*) as orders,
    count(*) filter (where is_cancelled) as cancelled_orders,
    cast(coalesce(sum(paid_amount) filter (where not is_cancelled), 0) as decimal(18, 2)) as paid_amount,
    count(*) filter (where fulfilment_type = 'delivery') as delivery_orders,
    count(*) filter (where fulfilment_type = 'self_pickup') as self_pickup_orders,
    count(*) filter (where fulfilment_type = 'in_store') as in_store_orders
from orders
group by business_date, channel

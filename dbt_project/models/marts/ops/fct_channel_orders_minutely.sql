-- Orders placed per local minute and channel (all orders, cancelled included), for the live order-rate
-- chart. Only minutes with orders have rows.

with orders as (
    select
        channel,
        {{ to_local_ts('created_at') }} as created_at_local
    from {{ ref('fct_orders') }}
)

select
    cast(created_at_local as date) as business_date,
    cast(date_trunc('minute', created_at_local) as timestamp) as minute_local,
    channel,
    count(*) as orders
from orders
group by all

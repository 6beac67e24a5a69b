{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_touched('business_date', touched_business_days()) }}",
    post_hook="{{ mark_batches_consumed() }}"
) }}
-- Orders placed per local minute and channel (all orders, cancelled included), for the live order-rate
-- chart. Only minutes with orders have rows.
--
-- Incremental by local business day (macros/incremental.sql, touched_business_days): a day's rows depend only
-- on the orders placed that day, so a micro-batch rebuilds the days of the orders it changed, whole.

with orders as (
    select
        channel,
        {{ to_local_ts('created_at') }} as created_at_local
    from {{ ref('fct_orders') }}
    {% if is_incremental() %}
        where business_date in (select business_date from {{ touched_table() }})
    {% endif %}
)

select
    cast(created_at_local as date) as business_date,
    cast(date_trunc('minute', created_at_local) as timestamp) as minute_local,
    channel,
    count(*) as orders
from orders
group by all

-- Status events exactly as they arrived; deriving the current status is int_orders__current_status's job.
with source as (
    select * from {{ source('raw', 'order_events') }}
)

select
    order_key,
    status,
    event_time,
    received_at,
    source as event_source,
    batch_id
from source

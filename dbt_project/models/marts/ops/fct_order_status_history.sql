{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_touched('order_key', changed_orders()) }}",
    post_hook="{{ mark_batches_consumed() }}"
) }}
-- Incremental by order (macros/incremental.sql): an order's rows depend only on its own record, lines and
-- events, so a micro-batch rebuilds the orders its batches changed.
-- Every status change of every order, with how long each stage took (paid → picking → dispatched →
-- delivered), from the status events however they arrived.
--
-- Events are ordered by event_time, and at the same instant by lifecycle rank (created < paid < picking <
-- dispatched < delivered, cancelled highest), exactly as int_orders__current_status decides the current
-- status; arrival order (received_at, batch) plays no part. A status reported again (twice, or late with
-- another time) only counts when it differs from the status before it, so a repeat never adds a change
-- and a milestone keeps its first time. The last change of an order is its current status.

with events as (
    select
        order_key,
        status,
        event_time,
        {{ status_rank('status') }} as status_rank
    from {{ ref('stg_raw__order_events') }}
    {% if is_incremental() %}
        where {{ in_batch_order_history() }}
    {% endif %}
),

sequenced as (
    select
        *,
        lag(status) over (partition by order_key order by event_time, status_rank) as status_before
    from events
),

changes as (
    select
        order_key,
        status,
        event_time as changed_at,
        row_number() over order_changes as change_no,
        lag(status) over order_changes as previous_status,
        lag(event_time) over order_changes as previous_changed_at,
        lead(event_time) over order_changes as next_changed_at
    from sequenced
    where status_before is distinct from status
    window order_changes as (partition by order_key order by event_time, status_rank)
)

select
    {{ hash_key(['changes.order_key', 'changes.change_no']) }} as status_change_id,
    changes.order_key,
    orders.channel,
    orders.store_id,
    orders.fulfilment_type,
    changes.change_no,
    changes.status,
    changes.changed_at,
    changes.previous_status,
    changes.previous_changed_at,
    case when changes.previous_status is not null
        then changes.previous_status || '→' || changes.status
    end as transition,
    -- How long the order was in the previous status before this change (the stage's duration).
    datediff('second', changes.previous_changed_at, changes.changed_at) as seconds_since_previous,
    -- How long the order stayed in this status; NULL for the current status.
    datediff('second', changes.changed_at, changes.next_changed_at) as seconds_in_status,
    changes.next_changed_at is null as is_current
from changes
left join {{ ref('stg_raw__orders') }} as orders
    on orders.order_key = changes.order_key
    {% if is_incremental() %}
        and {{ in_batch_keys('orders.order_key', 'orders') }}
    {% endif %}

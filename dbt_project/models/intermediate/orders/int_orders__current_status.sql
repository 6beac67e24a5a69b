{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_touched('order_key', changed_orders()) }}",
    post_hook="{{ mark_batches_consumed() }}"
) }}
-- A table incremental by order (macros/incremental.sql), not a view: every mart that needs an order's status reads it,
-- and a view re-ranks all of history's events for each of them (seconds per reader at 600k orders).
-- One row per order that has status events: the current status and when each lifecycle step happened.
--
-- Events arrive in any order and a channel may report the same status twice at different times, so
-- arrival order means nothing. The current status is the event with the latest event_time; events at
-- the same instant are ordered by lifecycle rank (created < paid < picking < dispatched < delivered,
-- cancelled above all), so "paid" and "picking" stamped in the same second resolve to "picking".

with events as (
    select
        order_key,
        status,
        event_time,
        received_at,
        {{ status_rank('status') }} as status_rank
    from {{ ref('stg_raw__order_events') }}
    {% if is_incremental() %}
        where {{ in_batch_order_history() }}
    {% endif %}
),

ranked as (
    select
        *,
        row_number() over (
            partition by order_key
            -- received_at last only makes the pick deterministic; (order_key, status, event_time) is
            -- unique, so two rows can only tie on time and rank if the status is unknown.
            order by event_time desc, status_rank desc, received_at desc nulls last
        ) as recency
    from events
),

latest as (
    select
        order_key,
        status as current_status,
        event_time as status_at
    from ranked
    where recency = 1
),

-- A status reported twice counts from its first occurrence: that is when the step happened.
milestones as (
    select
        order_key,
        count(*) as event_count,
        min(event_time) filter (where status = 'created') as created_event_at,
        min(event_time) filter (where status = 'paid') as paid_at,
        min(event_time) filter (where status = 'picking') as picked_at,
        min(event_time) filter (where status = 'dispatched') as dispatched_at,
        min(event_time) filter (where status = 'delivered') as delivered_at,
        min(event_time) filter (where status = 'cancelled') as cancelled_at,
        max(received_at) as last_received_at
    from events
    group by order_key
)

select
    latest.order_key,
    latest.current_status,
    latest.status_at,
    milestones.created_event_at,
    milestones.paid_at,
    milestones.picked_at,
    milestones.dispatched_at,
    milestones.delivered_at,
    milestones.cancelled_at,
    milestones.event_count,
    milestones.last_received_at,
    {{ this_rebuild_seq() }} as rebuilt_seq  -- which invocation wrote the row (macros/rebuilt_seq.sql)
from latest
inner join milestones on milestones.order_key = latest.order_key

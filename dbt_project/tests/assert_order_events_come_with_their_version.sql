-- Every status event carries the batch of a version of its order: ingestion stores an event only with the
-- version that stated it, stamped with that version's batch, and the micro-batch reads some orders' events
-- bounded by their versions' batches (macros/batch_keys.sql, in_batch_order_history), so an event of any
-- other batch would be skipped there. Returns the events that break it.
select
    events.order_key,
    events.status,
    events.event_time,
    events.batch_id
from {{ source('raw', 'order_events') }} as events
anti join {{ source('raw', 'order_history') }} as history
    on history.order_key = events.order_key
    and history.batch_id = events.batch_id

-- Every current line carries the batch of its order's current row: ingestion writes a version's row and
-- lines together, and the micro-batch reads some orders' lines bounded by those rows' batches
-- (macros/batch_keys.sql, in_batch_order_lines), so a line with another batch (or none) would be skipped there.
-- Returns the lines that break it.
select
    lines.order_key,
    lines.line_no,
    lines.batch_id as line_batch_id,
    orders.batch_id as order_batch_id
from {{ source('raw', 'order_lines') }} as lines
left join {{ source('raw', 'orders') }} as orders on orders.order_key = lines.order_key
where lines.batch_id is distinct from orders.batch_id

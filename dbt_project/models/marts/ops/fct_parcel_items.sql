-- One row per packed item: which parcel each order line (or quantity chunk of a line too big for one
-- parcel) travels in. The pick list of a parcel; its rows add up to the parcel's weight and volume in
-- fct_parcels, and the chunks of a line add up to the line.

select
    a.merge_group_id || '/' || a.travel_group || '/' || a.parcel_no as parcel_id,
    a.merge_group_id,
    a.travel_group,
    a.parcel_no,
    i.order_key,
    i.line_no,
    i.chunk_no,
    i.chunk_count,
    i.sku_id,
    i.quantity,
    i.line_quantity,
    i.weight_g,
    i.volume_ml,
    i.temp_zone,
    i.is_line_split,
    i.oversize_unit
from {{ ref('int_parcel_assignments') }} as a
join {{ ref('int_parcel_items') }} as i
    on i.order_key = a.order_key and i.line_no = a.line_no and i.chunk_no = a.chunk_no
